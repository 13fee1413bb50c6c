// The classifier's model: logistic-regression weights over hashed features, a bitmap of the
// features it was trained on (familiarity), the calibration that turns its raw log-odds into
// honest ones, and its versioned file format (gzip of magic, JSON header, little-endian
// float32 weights, then the bitmap). Training lives in learner.ts, calibration in
// calibration.ts; loading once per path and sharing lives in model-cache.ts.
import { endianness } from "node:os";
import { gunzipSync, gzipSync } from "node:zlib";
import { readFile, rename, writeFile } from "node:fs/promises";
import { SpamModelError } from "./errors.ts";
import type { FeatureSet } from "./features.ts";
import { TOKENIZER_VERSION } from "./tokenizer.ts";

export const MODEL_FORMAT = 2;
const LITTLE_ENDIAN = endianness() === "LE";
const MAGIC = Buffer.from("SLSPAM\r\n", "latin1");
/** Familiarity bitmap size (bits of the feature hash): sparse enough that chance hits are rare. */
export const KNOWN_BITS = 24;

export interface Calibration {
  /** Honest log-odds = slope × raw log-odds + intercept (fitted out of fold on the training set). */
  slope: number;
  intercept: number;
  /**
   * Familiarity (share of a message's features the model was trained on) at or below which the
   * model has no opinion (log-odds 0), and from which it is fully trusted; linear in between.
   */
  unfamiliar: number;
  familiar: number;
  /**
   * The same for the number of known features: a short message gives the model little to go
   * on (no opinion at `fewKnown` known features or less, full trust from `enoughKnown`).
   */
  fewKnown?: number;
  enoughKnown?: number;
}

export const NO_CALIBRATION: Calibration = { slope: 1, intercept: 0, unfamiliar: 0, familiar: 0 };

export interface ModelMeta {
  format: number;
  tokenizer: number;
  bits: number;
  bias: number;
  /** Characters of text the model was trained on (scoring uses the same by default). */
  maxChars: number;
  trained: { spam: number; ham: number; epochs: number; learningRate: number; seed: number };
  calibration: Calibration;
  /** Free text: what the model was built from. */
  source: string;
  /** Lessons applied on top of the built model since it was built (feedback, autolearn). */
  lessons?: { spam: number; ham: number };
  /** When the model was built (ISO time; absent for reproducible builds). */
  builtAt?: string;
}

export interface Score {
  /** Raw log-odds of the linear model. */
  raw: number;
  /** Share of the message's features seen in training (0..1). */
  familiarity: number;
  /** How many of its features were seen in training. */
  known: number;
  /** Calibrated log-odds of spam, shrunk toward 0 ("unsure") on unfamiliar mail. */
  logOdds: number;
  /** sigmoid(logOdds). */
  p: number;
}

export class SpamModel {
  readonly meta: ModelMeta;
  readonly weights: Float32Array;
  /** One bit per feature-hash bucket (KNOWN_BITS): set when a trained message had the feature. */
  readonly known: Uint8Array;
  bias: number;

  constructor(meta: ModelMeta, weights?: Float32Array, known?: Uint8Array) {
    if (weights && weights.length !== 2 ** meta.bits) throw new Error("weights do not match bits");
    if (known && known.length !== 2 ** KNOWN_BITS / 8) throw new Error("familiarity bitmap size");
    this.meta = meta;
    this.weights = weights ?? new Float32Array(2 ** meta.bits);
    this.known = known ?? new Uint8Array(2 ** KNOWN_BITS / 8);
    this.bias = meta.bias;
  }

  /** Log-odds of spam for a set of distinct feature indices (binary features, L2-normalised). */
  logit(indices: Uint32Array, count: number, norm = count): number {
    if (count === 0) return this.bias;
    const w = this.weights;
    let sum = 0;
    for (let i = 0; i < count; i++) sum += w[indices[i]!]!;
    return this.bias + sum / Math.sqrt(Math.max(norm, 1));
  }

  /**
   * Log-odds over the features the model knows. A feature it never saw has no weight of its
   * own (its bucket's weight belongs to the features it collides with), so it adds nothing;
   * it still counts in the normalisation, as every feature did in training.
   */
  knownLogit(indices: Uint32Array, hashes: Uint32Array, count: number, norm = count): number {
    if (count === 0) return this.bias;
    const w = this.weights;
    const k = this.known;
    let sum = 0;
    for (let i = 0; i < count; i++) {
      const b = hashes[i]! >>> (32 - KNOWN_BITS);
      if ((k[b >>> 3]! >>> (b & 7)) & 1) sum += w[indices[i]!]!;
    }
    return this.bias + sum / Math.sqrt(Math.max(norm, 1));
  }

  probability(indices: Uint32Array, count: number, norm = count): number {
    return sigmoid(this.logit(indices, count, norm));
  }

  /** Marks the features of one trained message as known. */
  markKnown(hashes: Uint32Array, count: number): void {
    const k = this.known;
    for (let i = 0; i < count; i++) {
      const b = hashes[i]! >>> (32 - KNOWN_BITS);
      k[b >>> 3]! |= 1 << (b & 7);
    }
  }

  familiarity(hashes: Uint32Array, count: number): number {
    return count === 0 ? 0 : this.knownCount(hashes, count) / count;
  }

  knownCount(hashes: Uint32Array, count: number): number {
    const k = this.known;
    let n = 0;
    for (let i = 0; i < count; i++) {
      const b = hashes[i]! >>> (32 - KNOWN_BITS);
      n += (k[b >>> 3]! >>> (b & 7)) & 1;
    }
    return n;
  }

  /**
   * The calibrated score of the message in `fs`: features up to `contentCount` are the
   * message's own (they normalise and measure familiarity); later ones (earlier filters'
   * symbols) only add their weights.
   */
  score(fs: FeatureSet, contentCount = fs.count): Score {
    const raw = this.knownLogit(fs.indices, fs.hashes, fs.count, contentCount);
    const known = this.knownCount(fs.hashes, contentCount);
    const familiarity = contentCount === 0 ? 0 : known / contentCount;
    const logOdds = calibrate(this.meta.calibration, raw, familiarity, known);
    return { raw, familiarity, known, logOdds, p: sigmoid(logOdds) };
  }

  /** The file's bytes; `level` is gzip's (9 for shipped files, 1 for frequent writes). */
  toBuffer(level = 9): Buffer {
    const meta: ModelMeta = { ...this.meta, bias: this.bias };
    const header = Buffer.from(JSON.stringify(meta), "utf8");
    const len = Buffer.alloc(4);
    len.writeUInt32LE(header.length);
    let body: Buffer;
    if (LITTLE_ENDIAN)
      body = Buffer.from(this.weights.buffer, this.weights.byteOffset, this.weights.byteLength);
    else {
      body = Buffer.alloc(this.weights.length * 4);
      for (let i = 0; i < this.weights.length; i++) body.writeFloatLE(this.weights[i]!, i * 4);
    }
    return gzipSync(Buffer.concat([MAGIC, len, header, body, this.known]), { level });
  }

  /** A deep copy (lessons are applied to a copy, then swapped in). */
  clone(): SpamModel {
    return new SpamModel(
      structuredClone({ ...this.meta, bias: this.bias }),
      this.weights.slice(),
      this.known.slice(),
    );
  }

  static fromBuffer(buf: Buffer, path = "(buffer)"): SpamModel {
    let raw: Buffer;
    try {
      raw = gunzipSync(buf);
    } catch (err) {
      throw new SpamModelError(path, "not a gzip file", { cause: err });
    }
    return SpamModel.fromRaw(raw, path);
  }

  /** From the inflated bytes (callers that gunzip off the event loop). */
  static fromRaw(raw: Buffer, path = "(buffer)"): SpamModel {
    if (raw.length < 12 || !raw.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw new SpamModelError(path, "not a Sluice spam model (bad magic)");
    }
    const hlen = raw.readUInt32LE(MAGIC.length);
    const start = MAGIC.length + 4;
    let meta: ModelMeta;
    try {
      meta = JSON.parse(raw.subarray(start, start + hlen).toString("utf8")) as ModelMeta;
    } catch (err) {
      throw new SpamModelError(path, "corrupt header", { cause: err });
    }
    if (meta.tokenizer !== TOKENIZER_VERSION) {
      throw new SpamModelError(
        path,
        `built for tokenizer ${meta.tokenizer}, this build tokenizes as ${TOKENIZER_VERSION}: retrain (sluice train)`,
      );
    }
    if (meta.format !== MODEL_FORMAT) {
      throw new SpamModelError(
        path,
        `format ${meta.format} is not supported (this build reads ${MODEL_FORMAT})`,
      );
    }
    if (!Number.isInteger(meta.bits) || meta.bits < 10 || meta.bits > 26) {
      throw new SpamModelError(path, `bad bits ${meta.bits}`);
    }
    const body = raw.subarray(start + hlen);
    const n = 2 ** meta.bits;
    const knownBytes = 2 ** KNOWN_BITS / 8;
    if (body.length !== n * 4 + knownBytes)
      throw new SpamModelError(path, `truncated: ${body.length} of ${n * 4 + knownBytes} body bytes`);
    const weights = new Float32Array(n);
    if (LITTLE_ENDIAN) new Uint8Array(weights.buffer).set(body.subarray(0, n * 4));
    else for (let i = 0; i < n; i++) weights[i] = body.readFloatLE(i * 4);
    return new SpamModel(meta, weights, new Uint8Array(body.subarray(n * 4)));
  }

  async save(path: string, level = 9): Promise<void> {
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, this.toBuffer(level));
    await rename(tmp, path);
  }

  static async load(path: string): Promise<SpamModel> {
    let buf: Buffer;
    try {
      buf = await readFile(path);
    } catch (err) {
      throw new SpamModelError(path, `cannot read: ${(err as Error).message}`, { cause: err });
    }
    return SpamModel.fromBuffer(buf, path);
  }
}

/**
 * Calibrated log-odds: the fitted line, shrunk linearly to 0 as the share of known features
 * falls to `unfamiliar`, or their number to `fewKnown` (whichever trusts less).
 */
export function calibrate(c: Calibration, raw: number, familiarity: number, known = Infinity): number {
  const line = c.slope * raw + c.intercept;
  const ramp = (x: number, lo: number, hi: number) =>
    hi <= lo ? 1 : Math.min(1, Math.max(0, (x - lo) / (hi - lo)));
  return (
    line *
    Math.min(ramp(familiarity, c.unfamiliar, c.familiar), ramp(known, c.fewKnown ?? 0, c.enoughKnown ?? 0))
  );
}

export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}
