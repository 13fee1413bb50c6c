// Look-alike domains for mis-delivery prevention: a recipient domain that is not one of the
// known domains but whose "skeleton" (homoglyphs folded: 0→o, 1→l, rn→m, vv→w, Cyrillic and
// Greek look-alikes, IDNA decoded) is within a small edit distance of one. Pure; no DNS.
import { domainToUnicode } from "node:url";

const FOLD: [RegExp, string][] = [
  [/rn/g, "m"],
  [/vv/g, "w"],
  [/0/g, "o"],
  [/[1|i]/g, "l"],
  [/5/g, "s"],
  [/[аɑα]/g, "a"],
  [/[еε]/g, "e"],
  [/[оοө]/g, "o"],
  [/[рρ]/g, "p"],
  [/[сϲ]/g, "c"],
  [/[х]/g, "x"],
  [/[іı]/g, "l"],
  [/[ј]/g, "j"],
  [/[ѕ]/g, "s"],
  [/[у]/g, "y"],
  [/[ԁ]/g, "d"],
  [/[ɡ]/g, "g"],
  [/-/g, ""],
];

export function skeleton(domain: string): string {
  let s = domainToUnicode(domain.toLowerCase()) || domain.toLowerCase();
  s = s.normalize("NFKC");
  for (const [re, to] of FOLD) s = s.replace(re, to);
  return s;
}

export function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 4;
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The known domain `domain` imitates, or null (an exact known domain is never a look-alike). */
export function lookalikeOf(domain: string, known: readonly string[], maxDistance = 1): string | null {
  const d = domain.toLowerCase();
  if (known.includes(d)) return null;
  const sd = skeleton(d);
  for (const k of known) {
    const sk = skeleton(k);
    if (sd === sk || editDistance(sd, sk) <= maxDistance || editDistance(d, k) <= maxDistance) return k;
  }
  return null;
}
