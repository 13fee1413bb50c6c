// A reusable, de-duplicating set of hashed feature indices for one message at a time.
// Optionally records readable token names (tests, `explain`); never used across messages concurrently.
import { hashPair, hashString } from "./hash.ts";

export class FeatureSet {
  readonly bits: number;
  readonly mask: number;
  /** Distinct feature indices of the current message, in first-seen order. */
  indices: Uint32Array;
  count = 0;
  /** Readable tokens, filled only when recording. */
  readonly names: string[] | null;
  private readonly stamp: Uint32Array;
  private generation = 1;

  constructor(bits: number, record = false) {
    this.bits = bits;
    this.mask = 2 ** bits - 1;
    this.stamp = new Uint32Array(2 ** bits);
    this.indices = new Uint32Array(4096);
    this.names = record ? [] : null;
  }

  /** Start a new message (O(1): stamps are generations, not cleared). */
  reset(): void {
    this.count = 0;
    this.generation++;
    if (this.generation === 0xffffffff) {
      this.stamp.fill(0);
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
    if (this.stamp[i] === this.generation) return;
    this.stamp[i] = this.generation;
    if (this.count === this.indices.length) {
      const grown = new Uint32Array(this.indices.length * 2);
      grown.set(this.indices);
      this.indices = grown;
    }
    this.indices[this.count++] = i;
    if (this.names && name !== undefined) this.names.push(name);
  }

  /** A copy of the current indices (training keeps one per message). */
  snapshot(): Uint32Array {
    return this.indices.slice(0, this.count);
  }
}
