// The Sieve filter: runs the admin scripts of the recipient's policy (inbound scripts for mail
// from outside, outbound scripts for mail from authenticated senders) and maps Sieve actions
// onto pipeline actions. Scripts are compiled when the configuration loads (parseOptions).
import { z } from "zod";
import libmime from "libmime";
import type { Action, Filter, FilterContext, RecipientResult } from "../../pipeline/types.ts";
import type { HeaderEdit, Notification } from "../../message/types.ts";
import type { RecipientPolicy } from "../../policy/types.ts";
import { noticeFrom, renderNotification } from "../../notify/index.ts";
import { senderIsLocal } from "../virus/notifications.ts";
import { compileSieveTemplates, TemplatesSchema, type CompiledSieveTemplate } from "./templates.ts";
import { runSieve, SieveRuntimeError, type SieveAction, type SieveResult } from "../../sieve/index.ts";
import { domainOf } from "../../message/envelope.ts";
import { parseFilterOptions } from "../options.ts";
import { loadScript, notifyAllowed, scriptTemplates, type ScriptSettings } from "./scripts.ts";
import { readMessage, sieveEnvironment, type MessageNeeds } from "./environment.ts";
import { renderEnotify } from "./enotify.ts";
import type { CompiledScript } from "../../sieve/index.ts";
import { reply } from "../../message/replies.ts";

const Options = z
  .object({
    inbound: z.array(z.string().min(1)).default([]),
    outbound: z.array(z.string().min(1)).default([]),
    /** notify_template texts by name (en, ja); "misdelivery-hold" is built in. */
    templates: TemplatesSchema.default({}),
    /** Where notify_template :to "admin" goes. */
    admin: z
      .string()
      .regex(/^[^\s@]+@[^\s@]+$/, "not a mail address")
      .optional(),
    /** Header From of notifications (default postmaster@ the tenant's first domain). */
    from: z
      .string()
      .regex(/^[^\s@]+@[^\s@]+$/, "not a mail address")
      .optional(),
    /** include :global "NAME" reads GLOBAL_DIR/NAME.sieve (set by the operator in the global policy). */
    global_dir: z.string().min(1).optional(),
    /** include :personal "NAME" reads PERSONAL_DIR/NAME.sieve (per tenant); default: the script's folder. */
    personal_dir: z.string().min(1).optional(),
    /** enotify (RFC 5435, mailto): where scripts may send notifications, and how many. */
    enotify: z
      .object({
        /** Target domains ("example.com", or "*.example.com" for it and its subdomains); none = no enotify. */
        domains: z.array(z.string().regex(/^(\*\.)?[a-z0-9.-]+$/i, "not a domain")).default([]),
        /** Notifications per tenant per hour, per node. */
        max_per_hour: z.number().int().min(1).max(100_000).default(60),
      })
      .strict()
      .default({ domains: [], max_per_hour: 60 }),
  })
  .strict();
type Options = z.infer<typeof Options> & {
  compiled: Map<string, CompiledSieveTemplate>;
  /**
   * The scripts as compiled when this configuration revision was parsed: messages use these and
   * never look at the files (no stat per message); a new revision reads and compiles them again.
   */
  scripts: Map<string, CompiledScript>;
};

/** Include locations and the enotify allow-list of these options (the compile cache key too). */
export function scriptSettings(o: {
  global_dir?: string;
  personal_dir?: string;
  enotify?: { domains: string[] };
}): ScriptSettings {
  return { globalDir: o.global_dir, personalDir: o.personal_dir, notifyDomains: o.enotify?.domains ?? [] };
}

function parse(raw: unknown): Record<string, unknown> {
  const o = parseFilterOptions(Options, raw) as Options;
  const compiled = compileSieveTemplates(o.templates, "templates");
  const settings = scriptSettings(o);
  // Compile now, includes too: a broken script or an unknown template must stop the configuration.
  const scripts = new Map<string, CompiledScript>();
  for (const path of [...o.inbound, ...o.outbound]) {
    scripts.set(path, loadScript(path, settings));
    for (const name of scriptTemplates(path, settings)) {
      if (!compiled.has(name))
        throw new Error(`${path}: notify_template "${name}" is not defined in templates`);
    }
  }
  return { ...o, compiled, scripts };
}

/** The script compiled with this revision (options parsed elsewhere lack it: compile once then). */
function scriptOf(o: Options, path: string): CompiledScript {
  let s = o.scripts?.get(path);
  if (!s) {
    s = loadScript(path, scriptSettings(o));
    (o.scripts ??= new Map()).set(path, s);
  }
  return s;
}

function mapAction(a: SieveAction, script: string): Action | null {
  switch (a.type) {
    case "discard":
      return { type: "discard", reason: `sieve ${script}: discard` };
    case "fileinto":
      return a.copy ? null : { type: "quarantine", reason: `sieve ${script}: fileinto ${a.folder}` };
    case "redirect":
      return a.copy ? { type: "bcc", address: a.address } : { type: "redirect", address: a.address };
    case "reject":
    case "ereject":
      return {
        type: "reject",
        reply: reply("rejected", { text: a.reason }),
        reason: `sieve ${script}`,
      };
    case "hold":
      return { type: "hold", minutes: a.minutes, reason: a.reason || `sieve ${script}: hold` };
    case "quarantine":
      return { type: "quarantine", reason: a.reason || `sieve ${script}: quarantine` };
    default:
      return null;
  }
}

function encode(value: string): string {
  return /[^\x20-\x7e\t]/.test(value) ? libmime.encodeWords(value, "Q", 52, "utf-8") : value;
}

function mapEdits(result: SieveResult): HeaderEdit[] {
  return result.headerEdits.map((e) =>
    e.op === "add"
      ? { op: "add", name: e.name, value: encode(e.value), top: !e.last }
      : { op: "delete", name: e.name, index: e.occurrence },
  );
}

/**
 * The tenant a notice speaks for, and its language: outbound mail is the sender's tenant's
 * (an outside recipient has none), inbound the recipient's. A notice to the sender is in the
 * sender's own language, one to the recipient in the recipient's.
 */
async function noticeSide(
  ctx: FilterContext,
  r: { address: string; policy: RecipientPolicy },
  to: "sender" | "recipient" | "admin",
) {
  const me = ctx.envelope.auth !== null && ctx.sender ? await ctx.sender() : null;
  const tenant = me?.tenant ?? r.policy.tenant ?? null;
  const language =
    to === "recipient" && r.policy.tenant
      ? r.policy.language
      : to === "sender" && me
        ? me.language
        : (tenant?.language ?? "en");
  return { tenant, language, fallbackDomain: domainOf(me?.address || r.address) };
}

/** Render one notify_template action; null when the role has no safe address (no backscatter). */
async function renderFor(
  ctx: FilterContext,
  r: { address: string; policy: RecipientPolicy },
  o: Options,
  a: { to: "sender" | "recipient" | "admin"; template: string },
  res: SieveResult,
  headers: { name: string; value: string }[],
): Promise<Notification | "hold" | null> {
  const t = o.compiled.get(a.template);
  const sender = ctx.envelope.mailFrom?.address ?? "";
  let to: string | null = null;
  if (a.to === "recipient") to = r.address;
  else if (a.to === "admin") to = o.admin ?? null;
  else if (sender && senderIsLocal(ctx.envelope, r.policy)) to = sender;
  if (!t || !to) return null;
  const hold = res.actions.find((x) => x.type === "hold");
  const side = await noticeSide(ctx, r, a.to);
  // A held message's sender hears from the hold queue (with send-now and cancel links), once
  // per held message: a second, per-recipient notice from the script would say the same.
  if (hold && a.to === "sender" && side.tenant && side.tenant.hold?.notify_sender !== false) return "hold";
  const header = (n: string) => headers.find((h) => h.name.toLowerCase() === n)?.value ?? "";
  const message = await renderNotification({
    from: noticeFrom(side.tenant, { policy: o.from, fallbackDomain: side.fallbackDomain }),
    to,
    ...t[side.language],
    vars: {
      subject: header("subject"),
      sender,
      recipient: r.address,
      date: header("date"),
      tenant: r.policy.tenant?.id ?? "",
      reason: hold && hold.type === "hold" ? hold.reason : "",
      minutes: hold && hold.type === "hold" ? String(hold.minutes) : "",
      ref: ctx.tx?.id ?? "",
    },
  });
  return { to, message };
}

/** Capabilities the script set requires, included scripts too. */
function capabilitiesOf(script: CompiledScript): Set<string> {
  const caps = new Set(script.requires);
  for (const u of script.units.values()) u.requires.forEach((c) => caps.add(c));
  return caps;
}

export const sieveFilter: Filter = {
  name: "sieve",
  group: "sieve",
  stages: ["data"],
  priority: 80,
  enabledByDefault: true,
  parseOptions: parse,
  async check(ctx) {
    const outbound = ctx.envelope.auth !== null;
    const todo = ctx.recipients.filter((r) => {
      const o = r.policy.filters.sieve?.options as Options | undefined;
      return (outbound ? o?.outbound : o?.inbound)?.length;
    });
    if (todo.length === 0) return {};
    const needs: MessageNeeds = {};
    for (const r of todo) {
      const o = r.policy.filters.sieve!.options as Options;
      for (const path of outbound ? o.outbound : o.inbound) {
        const caps = capabilitiesOf(scriptOf(o, path));
        needs.mime ||= caps.has("mime") || caps.has("foreverypart");
        needs.archives ||= caps.has("vnd.sluice.archive");
      }
    }
    const msg = await readMessage(ctx, needs);
    const recipients: Record<string, RecipientResult> = {};
    for (const r of todo) {
      const o = r.policy.filters.sieve!.options as Options;
      // The tenant of the message's side: the sender's for outbound mail, the recipient's for inbound.
      const internal = r.policy.tenant?.domains ?? (outbound ? [domainOf(ctx.envelope.auth ?? "")] : []);
      const env = sieveEnvironment(ctx, r, msg, internal);
      const out: RecipientResult = { symbols: [], headers: [] };
      for (const path of outbound ? o.outbound : o.inbound) {
        try {
          const res = runSieve(scriptOf(o, path), env);
          out.headers!.push(...mapEdits(res));
          for (const a of res.actions) {
            if (a.type === "enotify") {
              const side = await noticeSide(ctx, r, "admin");
              const tenant = side.tenant;
              const sent = await renderEnotify(
                a,
                {
                  from: noticeFrom(tenant, { policy: o.from, fallbackDomain: side.fallbackDomain }),
                  allowed: notifyAllowed(o.enotify.domains),
                  maxPerHour: o.enotify.max_per_hour,
                  tenant: tenant?.id ?? "",
                },
                {
                  subject: msg.headers.find((h) => h.name.toLowerCase() === "subject")?.value ?? "",
                  from: msg.headers.find((h) => h.name.toLowerCase() === "from")?.value ?? "",
                  headers: msg.headers,
                },
              );
              for (const n of sent.notifications) {
                out.symbols!.push({ name: "SIEVE_ENOTIFY", score: 0, detail: n.to });
                (out.notify ??= []).push(n);
              }
              for (const why of sent.refused) {
                out.symbols!.push({ name: "SIEVE_ENOTIFY_REFUSED", score: 0, detail: why });
                ctx.log.info({ script: path, why }, "sieve notification not sent");
              }
              continue;
            }
            if (a.type === "notify") {
              const n = await renderFor(ctx, r, o, a, res, msg.headers);
              const detail = `${a.to}:${a.template}${n === "hold" ? " (the hold queue's notice)" : ""}`;
              out.symbols!.push({ name: "SIEVE_NOTIFY", score: 0, detail });
              if (n && n !== "hold") (out.notify ??= []).push(n);
              continue;
            }
            const mapped = mapAction(a, path);
            if (mapped) {
              out.symbols!.push({ name: `SIEVE_${a.type.toUpperCase()}`, score: 0, detail: path });
              out.action = mapped.type === "bcc" ? out.action : mapped;
              if (mapped.type === "bcc")
                out.symbols!.push({ name: "SIEVE_BCC", score: 0, detail: mapped.address });
            }
          }
        } catch (err) {
          if (!(err instanceof SieveRuntimeError)) throw err;
          // RFC 5228 2.10.6: a failing script keeps the message; the error is recorded.
          out.symbols!.push({ name: "SIEVE_ERROR", score: 0, detail: `${path}: ${err.message}` });
          ctx.log.warn({ script: path, err: err.message }, "sieve script failed");
        }
      }
      recipients[r.address] = out;
    }
    return { recipients };
  },
};
