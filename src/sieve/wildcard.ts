// The :matches wildcard language of RFC 5228 2.7.1 ("*", "?", "\" escape) with RFC 5229 match captures.
// Not a regex engine: patterns compile to literal segments, so matching never backtracks exponentially.

type Element = { lit: string } | { any: true };

export interface WildcardPattern {
  /** Segments between "*" wildcards; the first is anchored at the start, the last at the end. */
  segments: Element[][];
  /** True when the pattern contains at least one "*". */
  hasStar: boolean;
}

/** Parses with already-folded literal characters, so matching only compares code points. */
export function compileWildcard(pattern: string, fold: (s: string) => string): WildcardPattern {
  const chars = Array.from(pattern);
  const segments: Element[][] = [[]];
  let hasStar = false;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    const current = segments[segments.length - 1] as Element[];
    if (c === "\\" && i + 1 < chars.length) {
      current.push({ lit: fold(chars[++i] as string) });
    } else if (c === "*") {
      hasStar = true;
      segments.push([]);
    } else if (c === "?") {
      current.push({ any: true });
    } else {
      current.push({ lit: fold(c) });
    }
  }
  return { segments, hasStar };
}

function segmentAt(seg: Element[], text: string[], at: number): boolean {
  if (at < 0 || at + seg.length > text.length) return false;
  for (let k = 0; k < seg.length; k++) {
    const e = seg[k] as Element;
    if ("lit" in e && e.lit !== text[at + k]) return false;
  }
  return true;
}

/**
 * Returns null on no match, else the captures of RFC 5229 3.2 (one per "?" and "*", in pattern order).
 * Each "*" takes as little as possible, which is what the RFC 5229 "[*] *" example expects; taking
 * the leftmost occurrence of each middle segment finds a match whenever one exists.
 */
export function matchWildcard(
  p: WildcardPattern,
  original: string,
  fold: (s: string) => string,
): string[] | null {
  const text = Array.from(fold(original));
  const orig = Array.from(original);
  const segs = p.segments;
  const starts: number[] = [];
  const first = segs[0] as Element[];
  if (!p.hasStar) {
    if (first.length !== text.length || !segmentAt(first, text, 0)) return null;
    starts.push(0);
  } else {
    if (!segmentAt(first, text, 0)) return null;
    starts.push(0);
    let pos = first.length;
    for (let s = 1; s < segs.length - 1; s++) {
      const seg = segs[s] as Element[];
      let found = -1;
      for (let at = pos; at + seg.length <= text.length; at++) {
        if (segmentAt(seg, text, at)) {
          found = at;
          break;
        }
      }
      if (found < 0) return null;
      starts.push(found);
      pos = found + seg.length;
    }
    const last = segs[segs.length - 1] as Element[];
    const at = text.length - last.length;
    if (at < pos || !segmentAt(last, text, at)) return null;
    starts.push(at);
  }
  // Rebuild captures in pattern order from where each segment landed.
  const captures: string[] = [];
  for (let s = 0; s < segs.length; s++) {
    const seg = segs[s] as Element[];
    const start = starts[s] as number;
    if (s > 0) {
      const prev = segs[s - 1] as Element[];
      const prevEnd = (starts[s - 1] as number) + prev.length;
      captures.push(orig.slice(prevEnd, start).join(""));
    }
    seg.forEach((e, k) => {
      if ("any" in e) captures.push(orig[start + k] as string);
    });
  }
  return captures;
}
