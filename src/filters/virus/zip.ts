// Zip inspection for the attachment policy: reads the central directory and, within a byte
// budget, inflates entries to find executables, encrypted entries, nesting depth and expansion
// ratio. Our own reader (about 150 lines, node:zlib with maxOutputLength so a bomb cannot expand
// past the budget); it never writes files and never trusts a declared size. No zip64, no rar/7z.
import { inflateRawSync } from "node:zlib";

export interface ZipLimits {
  /** Archives nested deeper than this are not opened (the attachment itself is depth 1). */
  depthCap: number;
  /** Bytes inflated in total for one attachment. */
  budgetBytes: number;
  /** Entries read per archive. */
  maxEntries: number;
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

export function isZip(b: Buffer): boolean {
  return b.length >= 4 && b.readUInt32LE(0) === LOC;
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

interface Entry {
  name: string;
  flags: number;
  method: number;
  compSize: number;
  size: number;
  offset: number;
}

function readDirectory(buf: Buffer): Entry[] {
  const from = Math.max(0, buf.length - 22 - 65535);
  let eocd = -1;
  for (let i = buf.length - 22; i >= from; i--) {
    if (buf.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd === -1) throw new Error("no end of central directory");
  const count = buf.readUInt16LE(eocd + 10);
  const cdSize = buf.readUInt32LE(eocd + 12);
  const cdOffset = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdOffset === 0xffffffff) throw new Error("zip64 archive");
  if (cdOffset + cdSize > buf.length) throw new Error("central directory outside the archive");
  const entries: Entry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== CEN) throw new Error("corrupt central directory");
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const e: Entry = {
      flags: buf.readUInt16LE(p + 8),
      method: buf.readUInt16LE(p + 10),
      compSize: buf.readUInt32LE(p + 20),
      size: buf.readUInt32LE(p + 24),
      offset: buf.readUInt32LE(p + 42),
      name: buf.toString(buf.readUInt16LE(p + 8) & 0x800 ? "utf8" : "latin1", p + 46, p + 46 + nameLen),
    };
    if (e.compSize === 0xffffffff || e.size === 0xffffffff || e.offset === 0xffffffff) {
      throw new Error("zip64 entry");
    }
    entries.push(e);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

function entryData(buf: Buffer, e: Entry, budget: { left: number }): Buffer | "bomb" {
  const p = e.offset;
  if (p + 30 > buf.length || buf.readUInt32LE(p) !== LOC) throw new Error(`bad local header for ${e.name}`);
  const start = p + 30 + buf.readUInt16LE(p + 26) + buf.readUInt16LE(p + 28);
  const raw = buf.subarray(start, start + e.compSize);
  if (raw.length < e.compSize) throw new Error(`${e.name} is truncated`);
  if (e.method === 0) {
    if (raw.length > budget.left) return "bomb";
    budget.left -= raw.length;
    return raw;
  }
  if (e.method !== 8) throw new Error(`${e.name}: compression method ${e.method} not supported`);
  // Never inflate more than both the declared size and the remaining budget allow.
  const cap = Math.min(e.size, budget.left);
  let out: Buffer;
  try {
    out = inflateRawSync(raw, { maxOutputLength: cap + 1 });
  } catch (err) {
    if ((err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") return "bomb";
    throw new Error(`${e.name}: ${(err as Error).message}`, { cause: err });
  }
  if (out.length > cap) return "bomb";
  budget.left -= out.length;
  return out;
}

async function walk(
  buf: Buffer,
  path: string,
  depth: number,
  limits: ZipLimits,
  isExecutable: ExecutableTest,
  facts: ArchiveFacts,
  budget: { left: number },
): Promise<void> {
  facts.depth = Math.max(facts.depth, depth);
  let entries: Entry[];
  try {
    entries = readDirectory(buf);
  } catch (err) {
    facts.unreadable ??= `${path}: ${(err as Error).message}`;
    return;
  }
  let declared = 0;
  for (const e of entries.slice(0, limits.maxEntries)) {
    if (e.name.endsWith("/")) continue;
    const at = `${path}/${e.name}`;
    declared += e.size;
    if (e.size >= RATIO_FLOOR) facts.maxRatio = Math.max(facts.maxRatio, e.size / Math.max(1, e.compSize));
    if (e.flags & 1) {
      facts.encrypted.push(at);
      if (await isExecutable(e.name, Buffer.alloc(0))) facts.executables.push(at);
      continue;
    }
    let data: Buffer | "bomb";
    try {
      data = entryData(buf, e, budget);
    } catch (err) {
      facts.unreadable ??= `${path}: ${(err as Error).message}`;
      continue;
    }
    if (data === "bomb") {
      facts.bomb = true;
      return;
    }
    if (await isExecutable(e.name, data.subarray(0, 4100))) facts.executables.push(at);
    if (isZip(data)) {
      if (depth + 1 > limits.depthCap) facts.depth = Math.max(facts.depth, limits.depthCap + 1);
      else await walk(data, at, depth + 1, limits, isExecutable, facts, budget);
      if (facts.bomb) return;
    }
  }
  if (declared >= RATIO_FLOOR) facts.maxRatio = Math.max(facts.maxRatio, declared / Math.max(1, buf.length));
}
