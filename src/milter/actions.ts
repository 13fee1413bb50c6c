// Maps the pipeline's DataResult at end of message onto milter replies: which outcome group
// stays in the MTA, which recipients are removed, which groups are stored or re-injected.
// Pure planning; connection.ts performs the store/re-inject calls and writes the packets.
import type { DataResult, OutcomeGroup } from "../pipeline/session.ts";
import type { HeaderEdit } from "../pipeline/types.ts";
import { Act } from "./constants.ts";
import type { Reply } from "./replies.ts";

export type QuarantineMode = "store" | "mta";

export interface EomContext {
  /** Accepted recipients: address as given to Session.rcpt → RCPT argument as the MTA sent it. */
  recipients: ReadonlyMap<string, string>;
  /** How many headers of each (lower-cased) name the MTA sent. */
  headerCounts: ReadonlyMap<string, number>;
  /** SMFIP_HDR_LEADSPC negotiated: the MTA adds no space after the colon. */
  leadSpace: boolean;
  /** Negotiated SMFIF_* actions. */
  actions: number;
  quarantineMode: QuarantineMode;
  /** Lower-cased names added at the top (INSHEADER 0) rather than appended. */
  topHeaders: ReadonlySet<string>;
}

export type EomPlan =
  | { kind: "reply"; final: Reply; reason: string }
  | {
      kind: "accept";
      /** Durable writes that must succeed before any reply (quarantine, hold). */
      store: OutcomeGroup[];
      /** Extra deliver groups sent as separate copies. */
      reinject: OutcomeGroup[];
      mods: Reply[];
      final: Reply;
    };

/** Trace headers belong above the MTA's existing ones, as a relay would prepend them. */
export const TOP_HEADERS: ReadonlySet<string> = new Set([
  "received",
  "received-spf",
  "authentication-results",
  "arc-seal",
  "arc-message-signature",
  "arc-authentication-results",
  "dkim-signature",
]);

export function planEom(result: DataResult, ctx: EomContext): EomPlan {
  if (result.reply) {
    const r = result.reply;
    return {
      kind: "reply",
      final: { type: "replycode", code: r.code, enhanced: r.enhanced, text: r.text },
      reason: "pipeline reply",
    };
  }
  const groups = result.groups.filter((g) => g.recipients.length > 0 || g.bcc.length > 0 || g.redirect);
  const covered = new Set(groups.flatMap((g) => g.recipients.map(key)));
  const orphans = [...ctx.recipients.keys()].filter((a) => !covered.has(key(a)));
  if (orphans.length > 0) {
    // A recipient without an outcome would be silently dropped by DELRCPT; let the MTA retry.
    return { kind: "reply", final: { type: "tempfail" }, reason: `no outcome for ${orphans.join(", ")}` };
  }
  const deliver = groups.filter((g) => g.disposition === "deliver");
  const kept = groups.filter((g) => g.disposition === "quarantine" || g.disposition === "hold");
  const raw = (addr: string) => rawRcpt(ctx.recipients, addr);

  if (deliver.length === 0) {
    const allKept = kept.length > 0 && kept.length === groups.length;
    if (allKept && ctx.quarantineMode === "mta" && ctx.actions & Act.QUARANTINE) {
      const reason = kept.map((g) => g.reason).find((r) => r) ?? "quarantined by Sluice";
      return {
        kind: "accept",
        store: [],
        reinject: [],
        mods: [{ type: "quarantine", reason }],
        final: { type: "continue" },
      };
    }
    return { kind: "accept", store: kept, reinject: [], mods: [], final: { type: "discard" } };
  }

  const main = deliver.reduce((best, g) => (g.recipients.length > best.recipients.length ? g : best));
  const mainSet = new Set(main.recipients.map(key));
  const mods: Reply[] = headerMods(main.edits, ctx);
  for (const addr of ctx.recipients.keys()) {
    if (!mainSet.has(key(addr))) mods.push({ type: "delrcpt", rcpt: raw(addr) });
  }
  if (main.redirect) {
    for (const addr of main.recipients) mods.push({ type: "delrcpt", rcpt: raw(addr) });
    mods.push({ type: "addrcpt", rcpt: `<${main.redirect}>` });
  }
  for (const b of main.bcc) mods.push({ type: "addrcpt", rcpt: `<${b}>` });
  return {
    kind: "accept",
    store: kept,
    reinject: deliver.filter((g) => g !== main),
    mods,
    final: { type: "continue" },
  };
}

/**
 * Header edits in order, tracking how many headers of each name exist at each step: CHGHEADER
 * indexes are 1-based among headers of that name, and deleting from the last one down keeps
 * the indexes of the ones not yet deleted valid whether or not the MTA renumbers.
 */
export function headerMods(edits: readonly HeaderEdit[], ctx: EomContext): Reply[] {
  const counts = new Map(ctx.headerCounts);
  const out: Reply[] = [];
  for (const e of edits) {
    const name = e.name.toLowerCase();
    const n = counts.get(name) ?? 0;
    if (e.op === "delete") {
      for (let i = n; i >= 1; i--) out.push({ type: "chgheader", index: i, name: e.name, value: "" });
      counts.set(name, 0);
      continue;
    }
    const value = headerValue(e.value ?? "", ctx.leadSpace);
    if (ctx.topHeaders.has(name)) out.push({ type: "insheader", index: 0, name: e.name, value });
    else out.push({ type: "addheader", name: e.name, value });
    counts.set(name, n + 1);
  }
  return out;
}

// With HDR_LEADSPC the MTA stores the value as given, so the space after the colon is ours.
// Folded values use bare LF inside the milter protocol, as libmilter's callers do.
function headerValue(value: string, leadSpace: boolean): string {
  const v = value.replace(/\r\n/g, "\n");
  return leadSpace && !/^[ \t]/.test(v) ? " " + v : v;
}

function key(addr: string): string {
  return addr.toLowerCase();
}

/** DELRCPT must repeat the RCPT argument exactly as the MTA sent it. */
function rawRcpt(recipients: ReadonlyMap<string, string>, addr: string): string {
  const exact = recipients.get(addr);
  if (exact !== undefined) return exact;
  for (const [a, r] of recipients) if (key(a) === key(addr)) return r;
  return `<${addr}>`;
}
