// The `hold_options` filter (outbound, authenticated senders only): holds mail to recipients
// outside the internal domains (optionally only with attachments), Bccs a supervisor, and when
// more than K external addresses are visible in To/Cc rewrites those headers so they travel
// as Bcc (priority 85: before DKIM signing at 90); holds mail to look-alike domains with a
// reason naming both; holds the first message to an external address the sender never wrote
// to (message log) for the sender's confirmation. Decides only; the store and release do the rest.
import { z } from "zod";
import type { Filter, FilterResult } from "../../pipeline/types.ts";
import type { HeaderEdit } from "../../message/types.ts";
import { domainOf } from "../../message/envelope.ts";
import { parseFilterOptions } from "../options.ts";
import { lookalikeOf } from "./lookalike.ts";

const Options = z
  .object({
    internal_domains: z.array(z.string().transform((d) => d.toLowerCase())).default([]),
    hold_external: z.boolean().default(false),
    only_with_attachments: z.boolean().default(false),
    minutes: z.number().int().min(1).max(10_080).default(5),
    supervisor_bcc: z.string().email().optional(),
    external_to_bcc_over: z.number().int().min(0).nullable().default(null),
    /** Hold mail to an external address this sender never wrote to, for the sender to confirm. */
    first_time_external: z
      .object({
        enabled: z.boolean().default(true),
        minutes: z.number().int().min(1).max(10_080).default(60),
      })
      .strict()
      .optional(),
    /** Hold mail to a domain that imitates an internal or a listed partner domain. */
    lookalike: z
      .object({
        enabled: z.boolean().default(true),
        domains: z.array(z.string().transform((d) => d.toLowerCase())).default([]),
        max_distance: z.number().int().min(0).max(3).default(1),
      })
      .strict()
      .optional(),
  })
  .strict();
type Options = z.infer<typeof Options>;

export function isInternal(address: string, internal: readonly string[]): boolean {
  const d = domainOf(address);
  return internal.some((i) => d === i || d.endsWith(`.${i}`));
}

/** Addresses in an address-list header value (display names and groups allowed). */
export function headerAddresses(value: string): string[] {
  const out: string[] = [];
  const re = /<([^<>\s]+@[^<>\s]+)>|([^\s<>,;:"]+@[^\s<>,;:"]+)/g;
  const noQuoted = value.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (let m = re.exec(noQuoted); m; m = re.exec(noQuoted)) out.push((m[1] ?? m[2])!.toLowerCase());
  return out;
}

function hasAttachment(raw: Buffer): boolean {
  return /^content-disposition:[ \t]*attachment|^content-disposition:[^\r\n]*\r?\n[ \t]+[^\r\n]*filename=|^content-type:[^\r\n]*;[ \t\r\n]*name=/im.test(
    raw.toString("latin1"),
  );
}

export const holdOptionsFilter: Filter = {
  name: "hold_options",
  group: "hold_options",
  stages: ["data"],
  priority: 85,
  enabledByDefault: false,
  parseOptions: (raw) => parseFilterOptions(Options, raw),
  async check(ctx): Promise<FilterResult> {
    const o = ctx.options as Options;
    const tx = ctx.tx;
    if (ctx.stage !== "data" || !tx || !ctx.envelope.auth) return {};
    const result: FilterResult = { symbols: [], headers: [] };
    const internal = o.internal_domains;
    const external = ctx.envelope.recipients
      .map((r) => r.address.toLowerCase())
      .filter((a) => !isInternal(a, internal));

    if (o.external_to_bcc_over !== null) {
      const fields = ["To", "Cc"].map((name) => ({
        name,
        values: tx.headers.entries().filter((f) => f.name.toLowerCase() === name.toLowerCase()),
      }));
      const visible = fields.flatMap((f) => f.values.flatMap((v) => headerAddresses(v.value)));
      const visibleExternal = visible.filter((a) => !isInternal(a, internal));
      if (visibleExternal.length > o.external_to_bcc_over) {
        const edits: HeaderEdit[] = [];
        for (const f of fields) {
          if (!f.values.length) continue;
          const keep = f.values
            .flatMap((v) => headerAddresses(v.value))
            .filter((a) => isInternal(a, internal));
          edits.push({ op: "delete", name: f.name });
          if (keep.length) edits.push({ op: "add", name: f.name, value: keep.join(", ") });
        }
        if (!fields[0]!.values.length || !edits.some((e) => e.op === "add" && e.name === "To"))
          edits.push({ op: "set", name: "To", value: "undisclosed-recipients:;" });
        result.headers!.push(...edits);
        result.symbols!.push({
          name: "HOLD_TOCC_TO_BCC",
          score: 0,
          detail: `${visibleExternal.length} external addresses moved to Bcc`,
        });
      }
    }

    let holding = false;
    if (o.lookalike?.enabled) {
      const known = [...internal, ...o.lookalike.domains];
      for (const a of external) {
        const real = lookalikeOf(domainOf(a), known, o.lookalike.max_distance);
        if (!real) continue;
        holding = true;
        result.symbols!.push({ name: "HOLD_LOOKALIKE_DOMAIN", score: 0, detail: `${domainOf(a)} ~ ${real}` });
        result.action = {
          type: "hold",
          minutes: o.minutes,
          reason: `look-alike domain: ${domainOf(a)} resembles ${real} (recipient ${a})`,
        };
        break;
      }
    }
    if (!holding && o.first_time_external?.enabled) {
      // Looked up in the message log before this message is logged, so only earlier mail counts.
      const sender = ctx.envelope.mailFrom?.address ?? "";
      for (const a of external) {
        if (await ctx.history.sentBefore(sender, a)) continue;
        holding = true;
        result.symbols!.push({ name: "HOLD_FIRST_TIME_RECIPIENT", score: 0, detail: a });
        result.action = {
          type: "hold",
          minutes: o.first_time_external.minutes,
          reason: `first message from ${sender} to ${a}: confirm with "send now", or cancel`,
        };
        break;
      }
    }
    if (!holding && o.hold_external && external.length) {
      const attached = o.only_with_attachments ? hasAttachment(await tx.spool!.buffer()) : true;
      if (attached) {
        holding = true;
        result.symbols!.push({ name: "HOLD_EXTERNAL", score: 0, detail: external.slice(0, 5).join(", ") });
        result.action = {
          type: "hold",
          minutes: o.minutes,
          reason: `external recipients${o.only_with_attachments ? " with attachments" : ""}: ${external.slice(0, 5).join(", ")}${external.length > 5 ? " …" : ""}`,
        };
      }
    }
    // A held copy gets its supervisor Bcc at release (tenant hold.supervisor_bcc); one action per result.
    if (!holding && o.supervisor_bcc)
      result.action = { type: "bcc", address: o.supervisor_bcc.toLowerCase() };
    return result;
  },
};
