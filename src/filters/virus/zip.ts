// Zip inspection for the attachment policy: executables, encrypted entries, nesting depth and
// expansion ratio, within a byte budget. yauzl reads the archive's structure (central directory,
// zip64, local headers); inflation streams through node:zlib on the thread pool, so a bomb never
// blocks the event loop and stops at the budget. It never writes files and never trusts a size.
import { createInflateRaw } from "node:zlib";
import type { Readable } from "node:stream";
import yauzl from "yauzl";

export interface ZipLimits {
  /** Archives nested deeper than this are not opened (the attachment itself is depth 1). */
  depthCap: number;
  /** Bytes inflated in total for one attachment. */
  budgetBytes: number;
  /** Entries read per archive. */
  maxEntries: number;
  /** Entries larger than this are measured but not kept, so not opened as nested archives. */
  maxEntryBytes?: number;
}

export interface ArchiveFacts {
  /** Deepest archive level seen (1 = the attachment); depthCap + 1 when something lay deeper. */
  depth: number;
  /** Largest uncompressed/compressed ratio of an entry of at least 1 MiB, or of the whole archive. */
  maxRatio: number;
  /** Entries that are executables by name or content, as "outer.zip/inner.zip/x.exe". */
  executables: string[];
  /** Encrypted entries. */
  encrypted: string[];
  /** The byte budget ran out or an entry inflated past its declared size. */
  bomb: boolean;
  /** Why (part of) the archive could not be read, if it could not. */
  unreadable: string | null;
}

export type ExecutableTest = (name: string, head: Buffer) => Promise<boolean> | boolean;

const EOCD = 0x06054b50;
const CEN = 0x02014b50;
const LOC = 0x04034b50;
const RATIO_FLOOR = 1024 * 1024;
const SNIFF = 4100;
const DEFAULT_ENTRY_BYTES = 30 * 1024 * 1024;

/**
 * Where the archive starts inside `b`, or null when `b` is no zip. Like Info-ZIP's unzip, data in
 * front of the archive (a self-extractor stub, or junk meant to hide it) is allowed: the end
 * record says how large the central directory is, so its real position gives the offset.
 */
export function zipStart(b: Buffer): number | null {
  if (b.length >= 4 && b.readUInt32LE(0) === LOC) return 0;
  const eocd = findEndRecord(b);
  if (eocd === -1) return null;
  const cdSize = b.readUInt32LE(eocd + 12);
  const cdOffset = b.readUInt32LE(eocd + 16);
  if (cdOffset === 0xffffffff) return 0; // zip64: yauzl finds its own way
  const cdStart = eocd - cdSize;
  const prefix = cdStart - cdOffset;
  if (prefix < 0 || cdStart < 0) return null;
  // An empty archive has no central directory entry to confirm the guess.
  if (cdSize > 0 && (cdStart + 4 > b.length || b.readUInt32LE(cdStart) !== CEN)) return null;
  return prefix;
}

export function isZip(b: Buffer): boolean {
  return zipStart(b) !== null;
}

function findEndRecord(b: Buffer): number {
  const from = Math.max(0, b.length - 22 - 65535);
  for (let i = b.length - 22; i >= from; i--) if (b.readUInt32LE(i) === EOCD) return i;
  return -1;
}

export async function inspectZip(
  buf: Buffer,
  name: string,
  limits: ZipLimits,
  isExecutable: ExecutableTest,
): Promise<ArchiveFacts> {
  const facts: ArchiveFacts = {
    depth: 1,
    maxRatio: 0,
    executables: [],
    encrypted: [],
    bomb: false,
    unreadable: null,
  };
  const budget = { left: limits.budgetBytes };
  await walk(buf, name, 1, limits, isExecutable, facts, budget);
  return facts;
}

type Budget = { left: number };

/** An entry's bytes: all of them up to `keep`, else the head; "bomb" past the cap or budget. */
interface EntryData {
  head: Buffer;
  whole: Buffer | null;
}

async function walk(
  buf: Buffer,
  path: string,
  depth: number,
  limits: ZipLimits,
  isExecutable: ExecutableTest,
  facts: ArchiveFacts,
  budget: Budget,
): Promise<void> {
  facts.depth = Math.max(facts.depth, depth);
  const start = zipStart(buf);
  let zip: yauzl.ZipFile;
  try {
    if (start === null) throw new Error("no end of central directory");
    zip = await yauzl.fromBufferPromise(buf.subarray(start), {
      lazyEntries: true,
      decodeStrings: true,
      // Names are only reported, never used as paths: keep "../x" and "C:\x" visible, not refused.
      strictFileNames: false,
      validateEntrySizes: false,
    });
  } catch (err) {
    facts.unreadable ??= `${path}: ${(err as Error).message}`;
    return;
  }
  let declared = 0;
  let seen = 0;
  try {
    for await (const e of zip.eachEntry()) {
      if (++seen > limits.maxEntries) break;
      if (e.fileName.endsWith("/")) continue;
      const at = `${path}/${e.fileName}`;
      declared += e.uncompressedSize;
      if (e.uncompressedSize >= RATIO_FLOOR) {
        facts.maxRatio = Math.max(facts.maxRatio, e.uncompressedSize / Math.max(1, e.compressedSize));
      }
      if (e.isEncrypted()) {
        facts.encrypted.push(at);
        if (await isExecutable(e.fileName, Buffer.alloc(0))) facts.executables.push(at);
        continue;
      }
      let data: EntryData | "bomb";
      try {
        data = await entryData(zip, e, budget, limits.maxEntryBytes ?? DEFAULT_ENTRY_BYTES);
      } catch (err) {
        facts.unreadable ??= `${path}: ${e.fileName}: ${(err as Error).message}`;
        continue;
      }
      if (data === "bomb") {
        facts.bomb = true;
        return;
      }
      if (await isExecutable(e.fileName, data.head)) facts.executables.push(at);
      if (data.whole && isZip(data.whole)) {
        if (depth + 1 > limits.depthCap) facts.depth = Math.max(facts.depth, limits.depthCap + 1);
        else await walk(data.whole, at, depth + 1, limits, isExecutable, facts, budget);
        if (facts.bomb) return;
      }
    }
  } catch (err) {
    // A corrupt central directory entry ends the listing; what was read so far still counts.
    facts.unreadable ??= `${path}: ${(err as Error).message}`;
  } finally {
    zip.close();
  }
  if (declared >= RATIO_FLOOR) facts.maxRatio = Math.max(facts.maxRatio, declared / Math.max(1, buf.length));
}

/**
 * Streams one entry's data: raw bytes from yauzl, inflated here (thread pool, chunk by chunk) so
 * both streams can be stopped at once when the entry passes its declared size or the budget.
 */
async function entryData(zip: yauzl.ZipFile, e: yauzl.Entry, budget: Budget, keep: number) {
  if (e.compressionMethod !== 0 && e.compressionMethod !== 8) {
    throw new Error(`compression method ${e.compressionMethod} not supported`);
  }
  const raw = await zip.openReadStreamPromise(e, { decodeFileData: false });
  // Large output chunks: far fewer hops between the thread pool and the event loop (the
  // declared size is only a hint here; the cap below is what counts).
  const chunkSize = Math.min(Math.max(e.uncompressedSize, 16 * 1024), 1024 * 1024);
  const stream: Readable = e.compressionMethod === 8 ? raw.pipe(createInflateRaw({ chunkSize })) : raw;
  if (stream !== raw) raw.on("error", (err) => stream.destroy(err));
  // Never accept more than both the declared size and the remaining budget allow.
  const cap = Math.min(e.uncompressedSize, budget.left);
  const chunks: Buffer[] = [];
  let size = 0;
  let head: Buffer | null = null;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > cap) return "bomb" as const;
      if (head) continue;
      chunks.push(chunk);
      if (size > keep) {
        // Too large to open as a nested archive: keep only what type sniffing needs.
        head = Buffer.concat(chunks).subarray(0, SNIFF);
        chunks.length = 0;
      }
    }
  } finally {
    raw.destroy();
    stream.destroy();
  }
  budget.left -= size;
  const whole = head ? null : Buffer.concat(chunks);
  return { head: head ?? whole!.subarray(0, SNIFF), whole } satisfies EntryData;
}
