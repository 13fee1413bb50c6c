// Body spool: message bytes kept in memory up to a limit, then moved to a temp file,
// so a 50 MB message is held once on disk rather than several times in memory.
// Not a parser: it stores bytes and hands out readers; it is immutable once ended.
import { createReadStream } from "node:fs";
import { open, mkdir, rm, type FileHandle } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { Readable } from "node:stream";

export interface SpoolOptions {
  /** Bytes kept in memory before spilling to a file. */
  memoryLimit: number;
  /** Directory for spill files (created if missing). */
  dir?: string;
}

export class Spool {
  private chunks: Buffer[] = [];
  private memBytes = 0;
  private file: FileHandle | null = null;
  private path: string | null = null;
  private ended = false;
  size = 0;
  private readonly opts: SpoolOptions;

  constructor(opts: SpoolOptions) {
    this.opts = opts;
  }

  get onDisk(): boolean {
    return this.path !== null;
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.ended) throw new Error("spool already ended");
    this.size += chunk.length;
    if (this.file) {
      await this.file.write(chunk);
      return;
    }
    this.chunks.push(chunk);
    this.memBytes += chunk.length;
    if (this.memBytes > this.opts.memoryLimit) await this.spill();
  }

  private async spill(): Promise<void> {
    const dir = this.opts.dir ?? join(tmpdir(), "sluice-spool");
    await mkdir(dir, { recursive: true });
    this.path = join(dir, `${Date.now()}-${randomBytes(6).toString("hex")}.eml`);
    this.file = await open(this.path, "wx", 0o600);
    for (const c of this.chunks) await this.file.write(c);
    this.chunks = [];
    this.memBytes = 0;
  }

  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    if (this.file) {
      await this.file.close();
      this.file = null;
    }
  }

  /** A fresh reader over everything written (from `start`), usable many times. */
  stream(start = 0): Readable {
    if (!this.ended) throw new Error("spool read before end");
    if (this.path) return createReadStream(this.path, { start, highWaterMark: 64 * 1024 });
    const chunks = this.chunks;
    let skip = start;
    return Readable.from(
      (function* () {
        for (const c of chunks) {
          if (skip >= c.length) {
            skip -= c.length;
            continue;
          }
          yield skip > 0 ? c.subarray(skip) : c;
          skip = 0;
        }
      })(),
      { objectMode: false },
    );
  }

  /** The whole content in one buffer: only for callers that need it (and know the size). */
  async buffer(start = 0): Promise<Buffer> {
    if (!this.path) return Buffer.concat(this.chunks).subarray(start);
    const parts: Buffer[] = [];
    for await (const c of this.stream(start)) parts.push(c as Buffer);
    return Buffer.concat(parts);
  }

  async dispose(): Promise<void> {
    this.chunks = [];
    if (this.file) await this.file.close().catch(() => undefined);
    this.file = null;
    if (this.path) await rm(this.path, { force: true });
    this.path = null;
  }
}
