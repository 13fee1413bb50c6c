// One DNS list lookup through the shared resolver: the query name, the A answer read against the
// zone's rules, the TXT reason when asked. Every outcome is a result, never a throw: a DNS failure
// is "error" (logged, ignored), so a list that is down or refuses us never rejects mail.
import type { Logger } from "pino";
import { Counter, Registry } from "prom-client";
import { DnsError, type DnsResolver } from "../auth/dns.ts";
import {
  compileCode,
  meaningOf,
  txtReason,
  type AnswerMeaning,
  type AnswerRules,
  type ListedHit,
} from "./zone-answer.ts";
import type { ClientZone, UriZone } from "./options.ts";

export type ListStatus = "listed" | "clean" | "refused" | "malformed" | "error";

export interface ListResult {
  zone: string;
  /** The name asked (label + zone). */
  query: string;
  status: ListStatus;
  hits: ListedHit[];
  /** The A records answered (codes), for the trace. */
  answer: string[];
  /** TXT reason of a listing (when the zone asks for it). */
  reason?: string;
  /** Why it failed (error, refused, malformed). */
  problem?: string;
}

export interface ListMetrics {
  lookups: Counter<"list" | "result">;
  /** Count one lookup (label children kept: this runs for every list of every recipient). */
  count(list: string, result: ListStatus): void;
}

export function listMetrics(registry: Registry = new Registry()): ListMetrics {
  const lookups = new Counter({
    name: "sluice_dns_list_lookups_total",
    help: "DNS list lookups (DNSBL, DNSWL, URIBL) by zone and result: listed, clean, refused, malformed, error",
    labelNames: ["list", "result"] as const,
    registers: [registry],
  });
  const children = new Map<string, { inc(): void }>();
  return {
    lookups,
    count(list, result) {
      const key = `${list} ${result}`;
      let c = children.get(key);
      if (!c) children.set(key, (c = lookups.labels({ list, result })));
      c.inc();
    },
  };
}

const compiled = new WeakMap<ClientZone | UriZone, AnswerRules>();

/** The answer rules of a zone from its options (compiled once per parsed options object). */
export function rulesOf(z: ClientZone | UriZone): AnswerRules {
  let r = compiled.get(z);
  if (!r) {
    r = {
      zone: z.zone,
      symbol: z.symbol,
      score: z.score,
      codes: Object.entries(z.codes).map(([pattern, rule]) => ({
        pattern,
        match: compileCode(pattern),
        rule,
      })),
      bits: Object.entries(z.bits).map(([mask, rule]) => ({ mask: Number(mask), rule })),
      refused: z.refused.map(compileCode),
    };
    compiled.set(z, r);
  }
  return r;
}

const NOT_LISTED = new Set(["ENOTFOUND", "ENODATA"]);

/** Warnings about one list at most once a minute (an outage must not flood the log). */
const lastWarned = new Map<string, { at: number; suppressed: number }>();
export function warnThrottled(log: Logger, key: string, fields: Record<string, unknown>, msg: string): void {
  const now = Date.now();
  const w = lastWarned.get(key);
  if (w && now - w.at < 60_000) {
    w.suppressed++;
    return;
  }
  if (lastWarned.size > 10_000) lastWarned.clear();
  lastWarned.set(key, { at: now, suppressed: 0 });
  log.warn({ ...fields, ...(w?.suppressed ? { suppressed: w.suppressed } : {}) }, msg);
}

/** What a set of records means under a zone's rules, computed once per cached answer. */
const meanings = new WeakMap<readonly unknown[], Map<AnswerRules, AnswerMeaning>>();
function meaningOfCached(rules: AnswerRules, records: readonly unknown[]): AnswerMeaning {
  let byRules = meanings.get(records);
  if (!byRules) meanings.set(records, (byRules = new Map()));
  let m = byRules.get(rules);
  if (!m) byRules.set(rules, (m = meaningOf(rules, records)));
  return m;
}

export async function lookupList(
  resolver: DnsResolver,
  label: string,
  zone: ClientZone | UriZone,
  metrics: ListMetrics,
  log: Logger,
): Promise<ListResult> {
  const query = `${label}.${zone.zone}`;
  // A cached answer is read without a promise or a throw: the warm path costs microseconds.
  const cached = resolver.peek(query, "A");
  const result = cached
    ? "error" in cached
      ? failed(query, zone, cached.error, log)
      : await read(resolver, query, zone, cached.value, log)
    : await ask(resolver, query, zone, log);
  metrics.count(zone.zone, result.status);
  return result;
}

/** Whether `lookupList` would be answered from the cache (connect-stage prefetch skips those). */
export function isCached(resolver: DnsResolver, label: string, zone: ClientZone | UriZone): boolean {
  return resolver.peek(`${label}.${zone.zone}`, "A") !== null;
}

async function ask(
  resolver: DnsResolver,
  query: string,
  zone: ClientZone | UriZone,
  log: Logger,
): Promise<ListResult> {
  let records: unknown[];
  try {
    records = await resolver.lookup(query, "A");
  } catch (err) {
    return failed(query, zone, err, log);
  }
  return read(resolver, query, zone, Array.isArray(records) ? records : [], log);
}

function failed(query: string, zone: ClientZone | UriZone, err: unknown, log: Logger): ListResult {
  const base = { zone: zone.zone, query, hits: [], answer: [] };
  const code = err instanceof DnsError ? err.code : "ERROR";
  if (NOT_LISTED.has(code)) return { ...base, status: "clean" };
  const problem = `${(err as Error).message}`;
  warnThrottled(
    log,
    `${zone.zone} error`,
    { list: zone.zone, query, err: problem },
    "DNS list lookup failed; ignored",
  );
  return { ...base, status: "error", problem };
}

async function read(
  resolver: DnsResolver,
  query: string,
  zone: ClientZone | UriZone,
  records: readonly unknown[],
  log: Logger,
): Promise<ListResult> {
  const meaning = meaningOfCached(rulesOf(zone), records);
  const answer = [...meaning.hits.map((h) => h.code), ...meaning.refused, ...meaning.malformed];
  const base = { zone: zone.zone, query, hits: [], answer };
  if (meaning.refused.length) {
    warnThrottled(
      log,
      `${zone.zone} refused`,
      { list: zone.zone, query, answer: meaning.refused },
      "DNS list refused the query (127.255.255.x: rate limit or public resolver); answer ignored",
    );
  }
  if (meaning.malformed.length) {
    warnThrottled(
      log,
      `${zone.zone} malformed`,
      { list: zone.zone, query, answer: meaning.malformed },
      "DNS list answered something that is no listing code (outside 127.0.0.0/8); answer ignored",
    );
  }
  if (meaning.hits.length === 0) {
    const status: ListStatus = meaning.refused.length
      ? "refused"
      : meaning.malformed.length
        ? "malformed"
        : "clean";
    return status === "clean"
      ? { ...base, status }
      : { ...base, status, problem: `answered ${answer.join(", ")}` };
  }
  let reason: string | undefined;
  if (zone.txt) {
    try {
      const txt = resolver.peek(query, "TXT");
      const value = txt ? ("error" in txt ? [] : txt.value) : await resolver.lookup(query, "TXT");
      reason = txtReason(value) || undefined;
    } catch (err) {
      // The listing stands without its reason.
      if (!(err instanceof DnsError && NOT_LISTED.has(err.code)))
        warnThrottled(
          log,
          `${zone.zone} txt`,
          { list: zone.zone, query, err: (err as Error).message },
          "DNS list TXT lookup failed",
        );
    }
  }
  return { ...base, status: "listed", hits: meaning.hits, ...(reason ? { reason } : {}) };
}

/** How a result reads in a symbol detail and the trace: "zen.test 127.0.0.2 → RBL_ZEN_SBL 4". */
export function describe(r: ListResult, hit?: ListedHit): string {
  if (hit) return `${r.zone} answered ${hit.code} (${r.query})${r.reason ? `: ${r.reason}` : ""}`;
  return `${r.zone} ${r.status}${r.problem ? ` (${r.problem})` : ""}`;
}
