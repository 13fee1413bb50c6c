// The :matches wildcard language of RFC 5228 2.7.1 ("*", "?", "\" escape) with RFC 5229 match captures.
// Not a regex engine: patterns compile to segments found with indexOf, so matching never backtracks
// exponentially and multi-megabyte bodies stay cheap.

/** A literal run (already folded) or "?" (exactly one code point). */
type Element = { lit: string } | { any: true };

export interface WildcardPattern {
  /** Segments between "*" wildcards; the first is anchored at the start, the last at the end. */
  segments: Element[][];
  /** True when the pattern contains at least one "*". */
  hasStar: boolean;
}

export function compileWildcard(pattern: string, fold: (s: string) => string): WildcardPattern {
  const chars = Array.from(pattern);
  const segments: Element[][] = [[]];
  let hasStar = false;
  const addLit = (seg: Element[], c: string): void => {
    const last = seg[seg.length - 1];
    if (last && "lit" in last) last.lit += fold(c);
    else seg.push({ lit: fold(c) });
  };
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    const current = segments[segments.length - 1] as Element[];
    if (c === "\\" && i + 1 < chars.length) addLit(current, chars[++i] as string);
    else if (c === "*") {
      hasStar = true;
      segments.push([]);
    } else if (c === "?") current.push({ any: true });
    else addLit(current, c);
  }
  return { segments, hasStar };
}

function codePointEnd(text: string, at: number): number {
  const c = text.charCodeAt(at);
  if (c >= 0xd800 && c <= 0xdbff && at + 1 < text.length) {
    const d = text.charCodeAt(at + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return at + 2;
  }
  return at + 1;
}

/** End index when seg matches text at `at`, else -1. Literal runs compare whole substrings. */
function segmentAt(seg: Element[], text: string, at: number): number {
  let p = at;
  for (const e of seg) {
    if ("lit" in e) {
      if (!text.startsWith(e.lit, p)) return -1;
      p += e.lit.length;
    } else {
      if (p >= text.length) return -1;
      p = codePointEnd(text, p);
    }
  }
  return p;
}

/** Leftmost start >= from where seg matches; jumps between candidates with indexOf on its first literal. */
function findSegment(seg: Element[], text: string, from: number): [number, number] | null {
  const first = seg[0];
  if (first === undefined) return [from, from];
  if ("lit" in first) {
    for (let at = text.indexOf(first.lit, from); at >= 0; at = text.indexOf(first.lit, at + 1)) {
      const end = segmentAt(seg, text, at);
      if (end >= 0) return [at, end];
    }
    return null;
  }
  for (let at = from; at < text.length; at = codePointEnd(text, at)) {
    const end = segmentAt(seg, text, at);
    if (end >= 0) return [at, end];
  }
  return null;
}

/** Rightmost start >= from where seg matches ending exactly at the end of text. */
function findSuffix(seg: Element[], text: string, from: number): number {
  let lits = 0;
  let anys = 0;
  for (const e of seg) {
    if ("lit" in e) lits += e.lit.length;
    else anys++;
  }
  // "?" is one or two UTF-16 units, so try the few possible start offsets.
  for (let at = Math.max(from, text.length - lits - 2 * anys); at <= text.length - lits - anys; at++) {
    if (segmentAt(seg, text, at) === text.length) return at;
  }
  return -1;
}

/**
 * Returns null on no match, else the captures of RFC 5229 3.2 (one per "?" and "*", in pattern order).
 * Each "*" takes as little as possible, which is what the RFC 5229 "[*] *" example expects; taking
 * the leftmost occurrence of each middle segment finds a match whenever one exists. `text` is `original`
 * folded by the comparator; folding keeps length (ASCII case folding does), so captures come from the
 * original at the same indexes.
 */
export function matchWildcard(p: WildcardPattern, original: string, text: string): string[] | null {
  const segs = p.segments;
  const spans: [number, number][] = [];
  const first = segs[0] as Element[];
  const firstEnd = segmentAt(first, text, 0);
  if (firstEnd < 0 || (!p.hasStar && firstEnd !== text.length)) return null;
  spans.push([0, firstEnd]);
  if (p.hasStar) {
    let pos = firstEnd;
    for (let s = 1; s < segs.length - 1; s++) {
      const found = findSegment(segs[s] as Element[], text, pos);
      if (!found) return null;
      spans.push(found);
      pos = found[1];
    }
    const at = findSuffix(segs[segs.length - 1] as Element[], text, pos);
    if (at < 0) return null;
    spans.push([at, text.length]);
  }
  const captures: string[] = [];
  segs.forEach((seg, s) => {
    const [start] = spans[s] as [number, number];
    if (s > 0) captures.push(original.slice((spans[s - 1] as [number, number])[1], start));
    let q = start;
    for (const e of seg) {
      if ("lit" in e) q += e.lit.length;
      else {
        const end = codePointEnd(text, q);
        captures.push(original.slice(q, end));
        q = end;
      }
    }
  });
  return captures;
}
