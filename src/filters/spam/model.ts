// The classifier's model: logistic-regression weights over hashed features, and its
// versioned file format (gzip of magic, JSON header, little-endian float32 weights).
// Training lives in learner.ts; loading once per path and sharing lives in model-cache.ts.
import { gunzipSync, gzipSync } from "node:zlib";
import { readFile, rename, writeFile } from "node:fs/promises";
import { SpamModelError } from "./errors.ts";
import { TOKENIZER_VERSION } from "./tokenizer.ts";

export const MODEL_FORMAT = 1;
const MAGIC = Buffer.from("SLSPAM\r\n", "latin1");

export interface ModelMeta {
  format: number;
  tokenizer: number;
  bits: number;
  bias: number;
  /** Characters of text the model was trained on (scoring uses the same by default). */
  maxChars: number;
  trained: { spam: number; ham: number; epochs: number; learningRate: number; seed: number };
  /** Free text: what the model was built from. */
  source: string;
}

export class SpamModel {
  readonly meta: ModelMeta;
  readonly weights: Float32Array;
  bias: number;

  constructor(meta: ModelMeta, weights?: Float32Array) {
    if (weights && weights.length !== 2 ** meta.bits) throw new Error("weights do not match bits");
    this.meta = meta;
    this.weights = weights ?? new Float32Array(2 ** meta.bits);
    this.bias = meta.bias;
  }

  /** Log-odds of spam for a set of distinct feature indices (binary features, L2-normalised). */
  logit(indices: Uint32Array, count: number): number {
    if (count === 0) return this.bias;
    const w = this.weights;
    let sum = 0;
    for (let i = 0; i < count; i++) sum += w[indices[i]!]!;
    return this.bias + sum / Math.sqrt(count);
  }

  probability(indices: Uint32Array, count: number): number {
    return sigmoid(this.logit(indices, count));
  }

  toBuffer(): Buffer {
    const meta: ModelMeta = { ...this.meta, bias: this.bias };
    const header = Buffer.from(JSON.stringify(meta), "utf8");
    const len = Buffer.alloc(4);
    len.writeUInt32LE(header.length);
    const body = Buffer.alloc(this.weights.length * 4);
    for (let i = 0; i < this.weights.length; i++) body.writeFloatLE(this.weights[i]!, i * 4);
    return gzipSync(Buffer.concat([MAGIC, len, header, body]), { level: 9 });
  }

  static fromBuffer(buf: Buffer, path = "(buffer)"): SpamModel {
    let raw: Buffer;
    try {
      raw = gunzipSync(buf);
    } catch (err) {
      throw new SpamModelError(path, "not a gzip file", { cause: err });
    }
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
    if (meta.format !== MODEL_FORMAT) {
      throw new SpamModelError(
        path,
        `format ${meta.format} is not supported (this build reads ${MODEL_FORMAT})`,
      );
    }
    if (meta.tokenizer !== TOKENIZER_VERSION) {
      throw new SpamModelError(
        path,
        `built for tokenizer ${meta.tokenizer}, this build tokenizes as ${TOKENIZER_VERSION}: retrain (sluice train)`,
      );
    }
    if (!Number.isInteger(meta.bits) || meta.bits < 10 || meta.bits > 26) {
      throw new SpamModelError(path, `bad bits ${meta.bits}`);
    }
    const body = raw.subarray(start + hlen);
    const n = 2 ** meta.bits;
    if (body.length !== n * 4)
      throw new SpamModelError(path, `truncated: ${body.length} of ${n * 4} weight bytes`);
    const weights = new Float32Array(n);
    for (let i = 0; i < n; i++) weights[i] = body.readFloatLE(i * 4);
    return new SpamModel(meta, weights);
  }

  async save(path: string): Promise<void> {
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, this.toBuffer());
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

export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}
