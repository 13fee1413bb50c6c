// One message in flight: envelope, header list, body spool and the lazy MIME view.
// Front ends fill it; filters read it; edits go through the pipeline's editor, not here.
import { randomBytes } from "node:crypto";
import type { Envelope } from "./envelope.ts";
import { HeaderList, parseHeaderSection } from "./headers.ts";
import { Spool } from "./spool.ts";
import { parseMime, type MimeView } from "./mime.ts";
import { MessageTooLargeError } from "./errors.ts";

export interface IntakeLimits {
  /** Largest message accepted at all (bytes). */
  maxMessageBytes: number;
  /** Largest header section (bytes). */
  maxHeaderBytes: number;
  /** Bytes of a message kept in memory before the spool moves to disk. */
  spoolMemoryBytes: number;
  spoolDir?: string;
  /** Decoded text kept for filters (characters). */
  maxTextChars: number;
}

export const DEFAULT_INTAKE: IntakeLimits = {
  maxMessageBytes: 50 * 1024 * 1024,
  maxHeaderBytes: 1024 * 1024,
  spoolMemoryBytes: 256 * 1024,
  maxTextChars: 2 * 1024 * 1024,
};

/** A short, unique, quotable reference id (base32, 16 chars), e.g. for reject texts. */
export function newReferenceId(): string {
  const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  const time = Date.now();
  let out = "";
  let t = time;
  for (let i = 0; i < 8; i++) {
    out = alphabet[t % 32] + out;
    t = Math.floor(t / 32);
  }
  for (const b of randomBytes(8)) out += alphabet[b % 32];
  return out;
}

export class Transaction {
  readonly id: string;
  readonly envelope: Envelope;
  readonly receivedAt = new Date();
  headers: HeaderList = new HeaderList([]);
  /** Offset of the body in the spool (after the blank line). */
  bodyOffset = 0;
  spool: Spool | null = null;
  private mimeView: Promise<MimeView> | null = null;
  private readonly limits: IntakeLimits;

  constructor(envelope: Envelope, limits: IntakeLimits = DEFAULT_INTAKE, id = newReferenceId()) {
    this.envelope = envelope;
    this.limits = limits;
    this.id = id;
  }

  get size(): number {
    return this.spool?.size ?? 0;
  }

  /** Start receiving message bytes (dot-unstuffed, CRLF or LF line ends). */
  writer(): MessageWriter {
    return new MessageWriter(this, this.limits);
  }

  /** The shared MIME view, parsed on first use. */
  mime(): Promise<MimeView> {
    if (!this.spool) throw new Error("no message data yet");
    this.mimeView ??= parseMime(this.spool.stream(), { maxTextChars: this.limits.maxTextChars });
    return this.mimeView;
  }

  async dispose(): Promise<void> {
    await this.spool?.dispose();
  }
}

/** Receives raw bytes, splits the header section off, enforces size limits. */
export class MessageWriter {
  private head: Buffer[] = [];
  private headLen = 0;
  private inHead = true;
  private readonly spool: Spool;
  private readonly tx: Transaction;
  private readonly limits: IntakeLimits;

  constructor(tx: Transaction, limits: IntakeLimits) {
    this.tx = tx;
    this.limits = limits;
    this.spool = new Spool({ memoryLimit: limits.spoolMemoryBytes, dir: limits.spoolDir });
    tx.spool = this.spool;
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.spool.size + chunk.length > this.limits.maxMessageBytes) {
      throw new MessageTooLargeError("message", this.limits.maxMessageBytes);
    }
    if (this.inHead) this.scanHead(chunk);
    await this.spool.write(chunk);
  }

  private scanHead(chunk: Buffer): void {
    const prev = this.headLen;
    this.head.push(chunk);
    this.headLen += chunk.length;
    // Look for the empty line, starting a few bytes back so a CRLF split across chunks is found.
    const from = Math.max(0, prev - 3);
    const joined = this.head.length === 1 ? chunk : Buffer.concat(this.head);
    this.head = [joined];
    const end = findHeaderEnd(joined, from);
    if ((end ? end.headEnd : this.headLen) > this.limits.maxHeaderBytes) {
      throw new MessageTooLargeError("header section", this.limits.maxHeaderBytes);
    }
    if (end) {
      this.inHead = false;
      this.tx.headers = parseHeaderSection(joined.subarray(0, end.headEnd));
      this.tx.bodyOffset = end.bodyStart;
      this.head = [];
    }
  }

  async end(): Promise<Transaction> {
    if (this.inHead) {
      // No empty line: the whole message is a header section (RFC 5322 allows no body).
      const all = Buffer.concat(this.head);
      this.tx.headers = parseHeaderSection(all);
      this.tx.bodyOffset = all.length;
      this.inHead = false;
    }
    await this.spool.end();
    return this.tx;
  }
}

function findHeaderEnd(buf: Buffer, from: number): { headEnd: number; bodyStart: number } | null {
  let i = buf.indexOf(0x0a, from);
  while (i !== -1) {
    // "\n\n" or "\n\r\n" after a line end marks the blank line.
    if (buf[i + 1] === 0x0a) return { headEnd: i + 1, bodyStart: i + 2 };
    if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return { headEnd: i + 1, bodyStart: i + 3 };
    i = buf.indexOf(0x0a, i + 1);
  }
  // A message starting with a blank line has no headers at all.
  if (from === 0 && buf[0] === 0x0a) return { headEnd: 0, bodyStart: 1 };
  if (from === 0 && buf[0] === 0x0d && buf[1] === 0x0a) return { headEnd: 0, bodyStart: 2 };
  return null;
}
