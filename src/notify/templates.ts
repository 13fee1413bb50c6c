// The notification template set of one tenant: recipient / sender / admin, in English and
// Japanese, each a subject and a body. Configured ones replace the built-in defaults part by
// part; all are compiled at configuration load. Not for rendering MIME (render.ts).
import { compileTemplate, NotifyTemplateError, type CompiledTemplate } from "./template.ts";

export const NOTIFY_KINDS = ["recipient", "sender", "admin"] as const;
export type NotifyKind = (typeof NOTIFY_KINDS)[number];
export const NOTIFY_LANGUAGES = ["en", "ja"] as const;
export type NotifyLanguage = (typeof NOTIFY_LANGUAGES)[number];

/** Variables every notification template may use. */
export const NOTIFY_VARIABLES = [
  "virus",
  "subject",
  "sender",
  "recipient",
  "date",
  "quarantine_id",
  "tenant",
  "action",
] as const;

export interface TemplateText {
  subject: string;
  body: string;
}
export type RawTemplates = Partial<
  Record<NotifyKind, Partial<Record<NotifyLanguage, Partial<TemplateText>>>>
>;
export type CompiledPair = { subject: CompiledTemplate; body: CompiledTemplate };
export type TemplateSet = Record<NotifyKind, Record<NotifyLanguage, CompiledPair>>;

export const DEFAULT_TEMPLATES: Record<NotifyKind, Record<NotifyLanguage, TemplateText>> = {
  recipient: {
    en: {
      subject: "Virus found in a message to you: {subject}",
      body:
        "A message addressed to you contained a virus and was quarantined.\n\n" +
        "From: {sender}\nSubject: {subject}\nDate: {date}\nVirus: {virus}\nQuarantine id: {quarantine_id}\n\n" +
        "Ask your administrator if you need it released.\n",
    },
    ja: {
      subject: "ウイルスを検出しました: {subject}",
      body:
        "あなた宛てのメールからウイルスが検出されたため、隔離しました。\n\n" +
        "差出人: {sender}\n件名: {subject}\n日時: {date}\nウイルス名: {virus}\n隔離ID: {quarantine_id}\n\n" +
        "取り出しが必要な場合は管理者にお問い合わせください。\n",
    },
  },
  sender: {
    en: {
      subject: "Your message was not delivered: virus found ({subject})",
      body:
        "A message you sent contained a virus and was not delivered to {recipient}.\n\n" +
        "Subject: {subject}\nDate: {date}\nVirus: {virus}\n\nPlease check your computer with an up-to-date virus scanner.\n",
    },
    ja: {
      subject: "送信メールからウイルスを検出しました: {subject}",
      body:
        "あなたが送信したメールからウイルスが検出されたため、{recipient} には配送されませんでした。\n\n" +
        "件名: {subject}\n日時: {date}\nウイルス名: {virus}\n\nお使いのコンピューターをウイルス対策ソフトで確認してください。\n",
    },
  },
  admin: {
    en: {
      subject: "[virus] {virus} from {sender}",
      body:
        "Tenant: {tenant}\nAction: {action}\nFrom: {sender}\nTo: {recipient}\nSubject: {subject}\n" +
        "Date: {date}\nVirus: {virus}\nQuarantine id: {quarantine_id}\n",
    },
    ja: {
      subject: "[ウイルス] {virus} ({sender})",
      body:
        "テナント: {tenant}\n処理: {action}\n差出人: {sender}\n宛先: {recipient}\n件名: {subject}\n" +
        "日時: {date}\nウイルス名: {virus}\n隔離ID: {quarantine_id}\n",
    },
  },
};

/** Compiles configured templates over the defaults; throws NotifyTemplateError naming the path. */
export function compileTemplates(raw: RawTemplates | undefined, at = "notify.templates"): TemplateSet {
  const out = {} as TemplateSet;
  for (const kind of NOTIFY_KINDS) {
    out[kind] = {} as Record<NotifyLanguage, CompiledPair>;
    for (const lang of NOTIFY_LANGUAGES) {
      const given = raw?.[kind]?.[lang];
      const def = DEFAULT_TEMPLATES[kind][lang];
      const one = (part: keyof TemplateText) =>
        compileTemplate(given?.[part] ?? def[part], NOTIFY_VARIABLES, `${at}.${kind}.${lang}.${part}`);
      out[kind][lang] = { subject: one("subject"), body: one("body") };
    }
  }
  return out;
}

export { NotifyTemplateError };
