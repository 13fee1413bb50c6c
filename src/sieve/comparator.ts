// Comparators of RFC 4790 used by Sieve: i;octet, i;ascii-casemap and i;ascii-numeric.
// Not match types: wildcard, substring and regex matching live in match.ts and wildcard.ts.

export type ComparatorName = "i;octet" | "i;ascii-casemap" | "i;ascii-numeric";

export interface Comparator {
  name: ComparatorName;
  /** Whether :contains / :matches / :regex are defined for this comparator. */
  substring: boolean;
  /** Normal form used for equality, substring and wildcard matching (same length as the input). */
  fold(s: string): string;
  /** Ordering for relational tests; equality is compare(...) === 0. */
  compare(a: string, b: string): number;
}

/** ASCII-only case folding, so string length and character indexes stay the same. */
export function asciiLower(s: string): string {
  // Pure-ASCII strings (nearly all header values and raw bodies) take the fast native path.
  if (!/[^\x00-\x7f]/.test(s)) return s.toLowerCase();
  return s.replace(/[A-Z]+/g, (run) => run.toLowerCase());
}

function compareCodePoints(a: string, b: string): number {
  // Code point order equals the octet order of UTF-8, which i;octet specifies.
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const d = (x.value.codePointAt(0) as number) - (y.value.codePointAt(0) as number);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
}

/** RFC 4790 9.1.1: the leading digits as a number; no leading digit means positive infinity (null). */
function numericPrefix(s: string): string | null {
  const m = /^[0-9]+/.exec(s);
  if (!m) return null;
  const digits = m[0].replace(/^0+/, "");
  return digits;
}

export function compareNumeric(a: string, b: string): number {
  const x = numericPrefix(a);
  const y = numericPrefix(b);
  if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
  // Compare as digit strings so arbitrarily long numbers never lose precision.
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

export const COMPARATORS: Readonly<Record<ComparatorName, Comparator>> = {
  "i;octet": { name: "i;octet", substring: true, fold: (s) => s, compare: compareCodePoints },
  "i;ascii-casemap": {
    name: "i;ascii-casemap",
    substring: true,
    fold: asciiLower,
    compare: (a, b) => compareCodePoints(asciiLower(a), asciiLower(b)),
  },
  "i;ascii-numeric": { name: "i;ascii-numeric", substring: false, fold: (s) => s, compare: compareNumeric },
};

export function isComparatorName(name: string): name is ComparatorName {
  return Object.hasOwn(COMPARATORS, name);
}
