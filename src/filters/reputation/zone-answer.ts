// What a DNS list's answer means: each A record of a listed name against the zone's return-code
// map (exact, CIDR, `*` octets, or SURBL-style bits of the last octet) → named symbols. Answers
// that are not listings are told apart and never counted: 127.255.255.x (the list refuses us:
// public resolver, over quota), 127.0.0.1 (RFC 5782 test point, URIBL's "refused") and anything
// outside 127.0.0.0/8 (a broken or wildcarded zone). Pure; nothing here throws on bad input.
import { isIPv4 } from "node:net";

export interface CodeRule {
  symbol: string;
  /** Absent: the zone's score. */
  score?: number;
}

/** A zone's answer rules, compiled from its options. */
export interface AnswerRules {
  zone: string;
  /** For an answer no code or bit rule names. */
  symbol: string;
  score: number;
  codes: { match: (code: string) => boolean; pattern: string; rule: CodeRule }[];
  bits: { mask: number; rule: CodeRule }[];
  refused: ((code: string) => boolean)[];
}

export interface ListedHit {
  symbol: string;
  score: number;
  code: string;
}

export interface AnswerMeaning {
  hits: ListedHit[];
  /** The list refused to answer (codes), logged and ignored. */
  refused: string[];
  /** Records that are no answer at all (values shown safely), logged and ignored. */
  malformed: string[];
}

const ALWAYS_REFUSED = [(c: string) => c.startsWith("127.255.255."), (c: string) => c === "127.0.0.1"];

/** A return-code pattern: 127.0.0.2, 127.0.1.0/24 or 127.0.*.3. Throws on anything else. */
export function compileCode(pattern: string): (code: string) => boolean {
  const cidr = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(pattern);
  if (cidr) {
    const bits = Number(cidr[2]);
    if (!isIPv4(cidr[1]!) || bits > 32) throw new Error(`not a return code: ${pattern}`);
    const base = toInt(cidr[1]!);
    const size = 2 ** (32 - bits);
    const start = base - (base % size);
    return (c) => {
      const n = toInt(c);
      return n >= start && n < start + size;
    };
  }
  const parts = pattern.split(".");
  if (parts.length !== 4 || parts.some((p) => p !== "*" && !(/^\d{1,3}$/.test(p) && Number(p) <= 255))) {
    throw new Error(`not a return code (127.0.0.2, 127.0.1.0/24 or 127.0.*.3): ${pattern}`);
  }
  const want = parts.map((p) => (p === "*" ? null : Number(p)));
  return (c) => {
    const got = c.split(".").map(Number);
    return want.every((w, i) => w === null || w === got[i]);
  };
}

function toInt(quad: string): number {
  return quad.split(".").reduce((a, o) => a * 256 + Number(o), 0);
}

/** A record value shown in a log line: short, printable. */
function shown(v: unknown): string {
  const s = typeof v === "string" ? v : (JSON.stringify(v) ?? String(v));
  return s.replace(/[^\x20-\x7e]/g, "?").slice(0, 64);
}

/** The meaning of the A records answered for one listed name. */
export function meaningOf(rules: AnswerRules, records: readonly unknown[]): AnswerMeaning {
  const out: AnswerMeaning = { hits: [], refused: [], malformed: [] };
  const seen = new Set<string>();
  const hit = (rule: CodeRule | null, code: string) => {
    const symbol = rule?.symbol ?? rules.symbol;
    if (seen.has(symbol)) return;
    seen.add(symbol);
    out.hits.push({ symbol, score: rule?.score ?? rules.score, code });
  };
  for (const r of records.slice(0, 32)) {
    if (typeof r !== "string" || !isIPv4(r)) {
      out.malformed.push(shown(r));
      continue;
    }
    const code = r.split(".").map(Number).join(".");
    if (ALWAYS_REFUSED.some((f) => f(code)) || rules.refused.some((f) => f(code))) {
      out.refused.push(code);
      continue;
    }
    if (!code.startsWith("127.")) {
      out.malformed.push(code);
      continue;
    }
    const matched = rules.codes.filter((c) => c.match(code));
    const last = Number(code.split(".")[3]);
    const bits = rules.bits.filter((b) => (last & b.mask) !== 0);
    if (matched.length === 0 && bits.length === 0) hit(null, code);
    for (const m of matched) hit(m.rule, code);
    for (const b of bits) hit(b.rule, code);
  }
  if (records.length > 32) out.malformed.push(`${records.length - 32} more records ignored`);
  return out;
}

/**
 * A TXT answer (reason text of a listing) cut to something safe to put in a reply and a log
 * line: character-strings joined, printable ASCII only, at most `max` characters.
 */
export function txtReason(records: unknown, max = 200): string {
  if (!Array.isArray(records)) return "";
  const first = (records as unknown[]).find((r) => Array.isArray(r) || typeof r === "string");
  if (first === undefined) return "";
  const joined = Array.isArray(first)
    ? first
        .slice(0, 64)
        .filter((x): x is string => typeof x === "string")
        .join("")
    : (first as string);
  const clean = joined
    .slice(0, max * 4)
    .replace(/[^\x20-\x7e]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return clean.length > max ? `${clean.slice(0, max - 3)}...` : clean;
}
