// The virus filter's options (policy.filters.virus.options), validated and compiled at
// configuration load: clamd instances, actions, attachment policy and notification templates.
// Layers merge shallowly (a tenant's `notify` replaces the global one as a whole).
import { z } from "zod";
import { compileTemplate, type CompiledTemplate } from "../../notify/template.ts";
import { compileTemplates, type TemplateSet } from "../../notify/templates.ts";
import type { ClamdEndpoint } from "./clamd-client.ts";

export const REJECT_VARIABLES = ["virus"] as const;
export const BLOCK_VARIABLES = ["attachment", "reason"] as const;

/** Names blocked by default: Windows executables and scripts. */
export const DEFAULT_BLOCK_NAMES = [
  "*.exe",
  "*.com",
  "*.scr",
  "*.pif",
  "*.bat",
  "*.cmd",
  "*.vbs",
  "*.vbe",
  "*.js",
  "*.jse",
  "*.wsf",
  "*.wsh",
  "*.msi",
  "*.msp",
  "*.cpl",
  "*.hta",
  "*.jar",
  "*.ps1",
  "*.lnk",
  "*.reg",
  "*.dll",
  "*.scf",
];
/** Detected types (file-type's names) blocked by default. */
export const DEFAULT_BLOCK_TYPES = [
  "application/x-msdownload",
  "application/x-elf",
  "application/x-mach-binary",
];

const endpoint = z.union([
  z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) }).strict(),
  z.object({ socket: z.string().min(1) }).strict(),
]);

const templateText = z.object({ subject: z.string().optional(), body: z.string().optional() }).strict();
const perLanguage = z.object({ en: templateText.optional(), ja: templateText.optional() }).strict();

const Schema = z
  .object({
    action: z.enum(["reject", "quarantine"]).default("reject"),
    reject_text: z.string().max(400).default("Message contains a virus ({virus})"),
    on_unavailable: z.enum(["tempfail", "header"]).default("tempfail"),
    /** Messages above max_bytes (or refused by clamd's StreamMaxLength). */
    on_oversize: z.enum(["accept", "header", "tempfail"]).default("header"),
    clamd: z
      .array(endpoint)
      .min(1)
      .default([{ host: "127.0.0.1", port: 3310 }]),
    timeout_ms: z.number().int().positive().max(600_000).default(20_000),
    chunk_bytes: z
      .number()
      .int()
      .min(1)
      .max(16 * 1024 * 1024)
      .default(64 * 1024),
    max_bytes: z
      .number()
      .int()
      .positive()
      .default(25 * 1024 * 1024),
    attachments: z
      .object({
        enabled: z.boolean().default(true),
        /** What a blocked attachment leads to; defaults to `action`. */
        action: z.enum(["reject", "quarantine"]).optional(),
        reject_text: z.string().max(400).default("Attachment {attachment} is not allowed ({reason})"),
        block_types: z
          .array(z.string().regex(/^[a-z0-9.+-]+\/(\*|[a-z0-9.+-]+)$/i))
          .default(DEFAULT_BLOCK_TYPES),
        block_names: z.array(z.string().min(1)).default(DEFAULT_BLOCK_NAMES),
        block_double_ext: z.boolean().default(true),
        /** Attachments larger than this are not inspected (clamd still scans them). */
        max_inspect_bytes: z
          .number()
          .int()
          .positive()
          .default(30 * 1024 * 1024),
        archives: z
          .object({
            executables: z.enum(["block", "allow"]).default("block"),
            encrypted: z.enum(["block", "quarantine", "allow"]).default("quarantine"),
            max_depth: z.number().int().min(1).max(20).default(3),
            max_ratio: z.number().positive().default(100),
            /** Bytes inflated per attachment; more is treated as a zip bomb. */
            max_expanded_bytes: z
              .number()
              .int()
              .positive()
              .default(200 * 1024 * 1024),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    notify: z
      .object({
        recipient: z.boolean().default(true),
        sender: z.boolean().default(true),
        admin: z.email().nullable().default(null),
        /** Header From of notifications; default postmaster@ the tenant's first domain. */
        from: z.email().optional(),
        templates: z
          .object({
            recipient: perLanguage.optional(),
            sender: perLanguage.optional(),
            admin: perLanguage.optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type RawVirusOptions = z.infer<typeof Schema>;

export interface VirusOptions extends Omit<RawVirusOptions, "clamd"> {
  clamd: ClamdEndpoint[];
  compiled: {
    rejectText: CompiledTemplate;
    blockText: CompiledTemplate;
    blockNames: RegExp[];
    templates: TemplateSet;
  };
}

/** Validates and compiles; throws an Error whose message starts with the option path. */
export function parseVirusOptions(raw: unknown): VirusOptions {
  const r = Schema.safeParse(raw ?? {});
  if (!r.success) {
    const i = r.error.issues[0]!;
    const path = i.path.map(String).join(".");
    throw new Error(path ? `${path}: ${i.message}` : i.message);
  }
  const o = r.data;
  return {
    ...o,
    compiled: {
      rejectText: compileTemplate(o.reject_text, REJECT_VARIABLES, "reject_text"),
      blockText: compileTemplate(o.attachments.reject_text, BLOCK_VARIABLES, "attachments.reject_text"),
      blockNames: o.attachments.block_names.map(globToRegExp),
      templates: compileTemplates(o.notify.templates, "notify.templates"),
    },
  };
}

/** "*.exe", "invoice?.pdf": * and ? only, case-insensitive, whole name. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "is");
}
