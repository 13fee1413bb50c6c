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

/** The steps of hashString, for hashing a token while scanning it (no string built). */
export const FNV_SEED = 0x811c9dc5;
export function fnvStep(h: number, code: number): number {
  return Math.imul(h ^ code, 0x01000193);
}
export function fnvPrefix(prefix: string): number {
  let h = FNV_SEED;
  for (let i = 0; i < prefix.length; i++) h = fnvStep(h, prefix.charCodeAt(i));
  return h;
}

/** Hash of four consecutive code units (character 4-grams), salted per section. */
export function hashGram4(salt: number, a: number, b: number, c: number, d: number): number {
  let h = Math.imul(a ^ salt, 0x01000193);
  h = Math.imul(h ^ b, 0x01000193);
  h = Math.imul(h ^ c, 0x01000193);
  return fmix(Math.imul(h ^ d, 0x01000193));
}

export function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
