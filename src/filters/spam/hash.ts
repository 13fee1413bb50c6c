// Feature hashing for the spam classifier: strings and token pairs to 32-bit hashes.
// Fast and stable across versions (the model file depends on it); not cryptographic.

/** FNV-1a over UTF-16 code units, finished with murmur3's fmix32 for good low bits. */
export function hashString(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix(h);
}

/** Combines two hashes and a distance (orthogonal sparse bigrams) without building a string. */
export function hashPair(a: number, b: number, distance: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) + distance;
  h ^= Math.imul(b, 0xc2b2ae35);
  return fmix(h);
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
