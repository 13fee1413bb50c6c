// Notification templates for Sieve's notify_template (vnd.sluice.notify): per policy layer,
// per language, compiled at configuration load; a script naming an unknown template is refused
// then too. Rendering goes through src/notify (UTF-8, RFC 2047 subject).
import { z } from "zod";
import { compileTemplate, type CompiledTemplate } from "../../notify/index.ts";

export const SIEVE_TEMPLATE_VARIABLES = [
  "subject",
  "sender",
  "recipient",
  "date",
  "tenant",
  "reason",
  "minutes",
  "ref",
];

const Text = z.object({ subject: z.string().min(1), body: z.string().min(1) }).strict();
export const TemplatesSchema = z.record(
  z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "template names are letters, digits, . _ -"),
  z.object({ en: Text, ja: Text.optional() }).strict(),
);
export type RawSieveTemplates = z.infer<typeof TemplatesSchema>;

export interface CompiledSieveTemplate {
  en: { subject: CompiledTemplate; body: CompiledTemplate };
  ja: { subject: CompiledTemplate; body: CompiledTemplate };
}

/** Shipped so the mis-delivery example works out of the box; a policy may replace it. */
export const DEFAULT_SIEVE_TEMPLATES: RawSieveTemplates = {
  "misdelivery-hold": {
    en: {
      subject: "Your message is held for {minutes} minutes: {subject}",
      body:
        "Your message to {recipient} was held for {minutes} minutes before delivery ({reason}).\n" +
        "If it went to the wrong address, ask your administrator to cancel it now (reference {ref}).\n" +
        "Otherwise it will be delivered automatically.\n",
    },
    ja: {
      subject: "送信メールを{minutes}分間保留しています: {subject}",
      body:
        "{recipient} 宛のメールを配送前に{minutes}分間保留しています（{reason}）。\n" +
        "宛先の誤りであれば、管理者に取り消しを依頼してください（参照番号 {ref}）。\n" +
        "そのままであれば自動的に配送されます。\n",
    },
  },
};

export function compileSieveTemplates(
  raw: RawSieveTemplates,
  where: string,
): Map<string, CompiledSieveTemplate> {
  const out = new Map<string, CompiledSieveTemplate>();
  for (const [name, t] of Object.entries({ ...DEFAULT_SIEVE_TEMPLATES, ...raw })) {
    const pair = (lang: "en" | "ja", text: { subject: string; body: string }) => ({
      subject: compileTemplate(text.subject, SIEVE_TEMPLATE_VARIABLES, `${where}.${name}.${lang}.subject`),
      body: compileTemplate(text.body, SIEVE_TEMPLATE_VARIABLES, `${where}.${name}.${lang}.body`),
    });
    out.set(name, { en: pair("en", t.en), ja: pair("ja", t.ja ?? t.en) });
  }
  return out;
}

/** Template names a script's notify_template commands name literally. */
export function templatesNamedIn(source: string): string[] {
  const names: string[] = [];
  const re = /notify_template\s+(?::to\s+(?:"[^"]*"|\[[^\]]*\])\s+)?"([^"]+)"/g;
  for (const m of source.matchAll(re)) names.push(m[1]!);
  return names;
}
