// Maps the pipeline's DataResult at end of message onto milter replies: which outcome group
// stays in the MTA, which recipients are removed, which groups are stored or re-injected.
// Pure planning; connection.ts performs the store/re-inject calls and writes the packets.
import type { DataResult, OutcomeGroup } from "../pipeline/session.ts";
import type { HeaderEdit } from "../message/types.ts";
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
  /**
   * Whether INSHEADER 0 may be used at all: for these names and for edits marked `top` (Sieve
   * addheader without :last, trace headers). False appends every addition. Default true.
   */
  insertTop?: boolean;
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
 * Header edits with the SMTP proxy's semantics (src/message/rewrite.ts `applyEdits`): edits apply
 * in order; delete and set act on the fields present at that point, not on fields added with
 * `top`; an indexed delete removes the index-th (1-based) such field of that name; set replaces
 * the first one in place, or adds when there is none.
 *
 * The edits are first applied to a model of the MTA's headers, then emitted as: value changes of
 * the MTA's own fields (CHGHEADER at the original index), deletions of the MTA's fields from the
 * last index down (CHGHEADER with an empty value), then the fields still added, in order. Since
 * nothing is added or deleted before a CHGHEADER that is not already below it, every index stays
 * valid whether or not the MTA renumbers after a deletion (Postfix does, Sendmail does not), and
 * a field added then deleted never reaches the MTA.
 */
export function headerMods(edits: readonly HeaderEdit[], ctx: EomContext): Reply[] {
  interface Field {
    key: string;
    name: string;
    value: string;
    /** 1-based index among the MTA's fields of this name; null for a field we add. */
    mta: number | null;
    /** Added at the top (INSHEADER 0) rather than appended. */
    top: boolean;
    changed: boolean;
    deleted: boolean;
  }
  const byName = new Map<string, Field[]>(); // fields a later delete/set can reach, in order
  const all: Field[] = [];
  const reachable = (name: string): Field[] => {
    let list = byName.get(name);
    if (!list) {
      const n = ctx.headerCounts.get(name) ?? 0;
      list = Array.from({ length: n }, (_, i) => ({
        key: name,
        name,
        value: "",
        mta: i + 1,
        top: false,
        changed: false,
        deleted: false,
      }));
      all.push(...list);
      byName.set(name, list);
    }
    return list;
  };
  for (const e of edits) {
    const name = e.name.toLowerCase();
    const list = reachable(name);
    if (e.op === "delete") {
      if (e.index === undefined) {
        for (const f of list) Object.assign(f, { deleted: true, name: e.name });
        list.length = 0;
      } else if (Number.isInteger(e.index) && e.index >= 1 && e.index <= list.length) {
        Object.assign(list.splice(e.index - 1, 1)[0]!, { deleted: true, name: e.name });
      }
      continue;
    }
    const value = headerValue(e.value ?? "", ctx.leadSpace);
    const first = list[0];
    if (e.op === "set" && first) {
      Object.assign(first, { value, changed: true, name: e.name });
      continue;
    }
    const f: Field = {
      key: name,
      name: e.name,
      value,
      mta: null,
      top: ctx.insertTop !== false && (e.top === true || ctx.topHeaders.has(name)),
      changed: false,
      deleted: false,
    };
    all.push(f);
    if (!e.top) list.push(f);
  }
  const out: Reply[] = [];
  for (const f of all) {
    if (f.mta !== null && f.changed && !f.deleted)
      out.push({ type: "chgheader", index: f.mta, name: f.name, value: f.value });
  }
  const gone = all.filter((f) => f.mta !== null && f.deleted);
  gone.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : y.mta! - x.mta!));
  for (const f of gone) out.push({ type: "chgheader", index: f.mta!, name: f.name, value: "" });
  for (const f of all) {
    if (f.mta !== null || f.deleted) continue;
    if (f.top) out.push({ type: "insheader", index: 0, name: f.name, value: f.value });
    else out.push({ type: "addheader", name: f.name, value: f.value });
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
