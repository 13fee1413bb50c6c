// A reusable, de-duplicating set of hashed feature indices for one message at a time.
// Optionally records readable token names (tests, `explain`); never used across messages concurrently.
// De-duplication uses a small open-addressing table sized to the message (it stays in cache;
// a stamp per model bucket would cost a cache miss per feature).
import { hashPair, hashString } from "./hash.ts";

export class FeatureSet {
  readonly bits: number;
  readonly mask: number;
  /** Distinct feature indices of the current message, in first-seen order. */
  indices: Uint32Array;
  /** The full 32-bit hash of each index (the model's familiarity bitmap uses other bits). */
  hashes: Uint32Array;
  count = 0;
  /** Readable tokens, filled only when recording. */
  readonly names: string[] | null;
  private keys = new Uint32Array(8192);
  private gens = new Uint32Array(8192);
  private slotMask = 8191;
  private generation = 1;

  constructor(bits: number, record = false) {
    this.bits = bits;
    this.mask = 2 ** bits - 1;
    this.indices = new Uint32Array(4096);
    this.hashes = new Uint32Array(4096);
    this.names = record ? [] : null;
  }

  /** Start a new message (O(1): table slots carry a generation, they are not cleared). */
  reset(): void {
    this.count = 0;
    this.generation++;
    if (this.generation === 0xffffffff) {
      this.gens.fill(0);
      this.generation = 1;
    }
    if (this.names) this.names.length = 0;
  }

  add(token: string): number {
    const h = hashString(token);
    this.addHash(h, this.names ? token : undefined);
    return h;
  }

  addPair(a: number, b: number, distance: number, nameA?: string, nameB?: string): void {
    this.addHash(
      hashPair(a, b, distance),
      this.names ? `${nameA} ${"~".repeat(distance - 1)}${distance > 1 ? " " : ""}${nameB}` : undefined,
    );
  }

  addHash(h: number, name?: string): void {
    const i = (h & this.mask) >>> 0;
    const gens = this.gens;
    const keys = this.keys;
    const gen = this.generation;
    let slot = i & this.slotMask;
    while (gens[slot] === gen) {
      if (keys[slot] === i) return;
      slot = (slot + 1) & this.slotMask;
    }
    gens[slot] = gen;
    keys[slot] = i;
    if (this.count === this.indices.length) {
      const grown = new Uint32Array(this.indices.length * 2);
      grown.set(this.indices);
      this.indices = grown;
      const grownH = new Uint32Array(this.hashes.length * 2);
      grownH.set(this.hashes);
      this.hashes = grownH;
    }
    this.hashes[this.count] = h >>> 0;
    this.indices[this.count++] = i;
    if (this.names && name !== undefined) this.names.push(name);
    if (this.count * 2 > this.slotMask) this.grow();
  }

  /** Doubles the table and re-inserts this message's indices (keeps the load under one half). */
  private grow(): void {
    const size = (this.slotMask + 1) * 2;
    this.keys = new Uint32Array(size);
    this.gens = new Uint32Array(size);
    this.slotMask = size - 1;
    this.generation = 1;
    for (let k = 0; k < this.count; k++) {
      const i = this.indices[k]!;
      let slot = i & this.slotMask;
      while (this.gens[slot] === 1) slot = (slot + 1) & this.slotMask;
      this.gens[slot] = 1;
      this.keys[slot] = i;
    }
  }

  /** A copy of the current indices (training keeps one per message). */
  snapshot(): Uint32Array {
    return this.indices.slice(0, this.count);
  }

  /** A copy of the current full hashes (familiarity marking at training). */
  snapshotHashes(): Uint32Array {
    return this.hashes.slice(0, this.count);
  }
}
