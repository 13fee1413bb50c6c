// One message in flight: envelope, header list, body spool and the lazy MIME view.
// Front ends fill it; filters read it; edits go through the pipeline's editor, not here.
import { randomBytes } from "node:crypto";
import type { Envelope } from "./envelope.ts";
import { HeaderList, parseHeaderSection } from "./headers.ts";
import { Spool } from "./spool.ts";
import { parseMime, type MimeView } from "./mime.ts";
import { MessageLineTooLongError, MessageTooLargeError, NulByteError } from "./errors.ts";

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
  /** Longest line of the message, header or body, without its line end (bytes). */
  maxLineBytes: number;
  /** NUL bytes in the message: refuse it, or take it without them. */
  nulBytes: "reject" | "strip";
}

export const DEFAULT_INTAKE: IntakeLimits = {
  maxMessageBytes: 50 * 1024 * 1024,
  maxHeaderBytes: 1024 * 1024,
  spoolMemoryBytes: 256 * 1024,
  maxTextChars: 2 * 1024 * 1024,
  maxLineBytes: 131_072,
  nulBytes: "reject",
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

/**
 * Receives raw bytes, splits the header section off, enforces size, line length and NUL
 * limits. Every front end (proxy, milter, scan) feeds its bytes through here, so each limit
 * gives the same reply everywhere; a front end keeps draining its input after a refusal.
 */
export class MessageWriter {
  private head: Buffer[] = [];
  private headLen = 0;
  /** The last bytes of the header section so far, so a blank line split across chunks is found. */
  private headTail: Buffer = Buffer.alloc(0);
  private inHead = true;
  /** Bytes of the current line so far, and whether the last byte was a CR. */
  private lineLen = 0;
  private lastCr = false;
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
    if (chunk.indexOf(0) !== -1) {
      if (this.limits.nulBytes !== "strip") throw new NulByteError();
      chunk = stripNul(chunk);
    }
    if (this.spool.size + chunk.length > this.limits.maxMessageBytes) {
      throw new MessageTooLargeError("message", this.limits.maxMessageBytes);
    }
    this.checkLines(chunk);
    if (this.inHead) this.scanHead(chunk);
    await this.spool.write(chunk);
  }

  /** Line length across chunks: LF ends a line; a CR right before it is not counted. */
  private checkLines(chunk: Buffer): void {
    const max = this.limits.maxLineBytes;
    let start = 0;
    for (;;) {
      const lf = chunk.indexOf(0x0a, start);
      if (lf === -1) {
        this.lineLen += chunk.length - start;
        if (chunk.length > start) this.lastCr = chunk[chunk.length - 1] === 0x0d;
        // A trailing CR may still be the first half of CRLF.
        if (this.lineLen - (this.lastCr ? 1 : 0) > max) throw new MessageLineTooLongError(max);
        return;
      }
      const cr = lf > start ? chunk[lf - 1] === 0x0d : this.lastCr;
      if (this.lineLen + (lf - start) - (cr ? 1 : 0) > max) throw new MessageLineTooLongError(max);
      this.lineLen = 0;
      this.lastCr = false;
      start = lf + 1;
    }
  }

  private scanHead(chunk: Buffer): void {
    // Only the new bytes and a few before them are searched: a header section that arrives in
    // many small pieces costs linear time, not quadratic.
    const carry = this.headTail.length;
    const window = carry ? Buffer.concat([this.headTail, chunk]) : chunk;
    const base = this.headLen - carry;
    const end = findHeaderEnd(window, 0, base === 0);
    if ((end ? base + end.headEnd : this.headLen + chunk.length) > this.limits.maxHeaderBytes) {
      throw new MessageTooLargeError("header section", this.limits.maxHeaderBytes);
    }
    this.head.push(chunk);
    this.headLen += chunk.length;
    this.headTail = window.subarray(Math.max(0, window.length - 3));
    if (end) {
      const joined = Buffer.concat(this.head);
      this.inHead = false;
      this.tx.headers = parseHeaderSection(joined.subarray(0, base + end.headEnd));
      this.tx.bodyOffset = base + end.bodyStart;
      this.head = [];
      this.headTail = Buffer.alloc(0);
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

function findHeaderEnd(
  buf: Buffer,
  from: number,
  atStart: boolean,
): { headEnd: number; bodyStart: number } | null {
  // A message starting with a blank line has no headers at all.
  if (atStart && buf[0] === 0x0a) return { headEnd: 0, bodyStart: 1 };
  if (atStart && buf[0] === 0x0d && buf[1] === 0x0a) return { headEnd: 0, bodyStart: 2 };
  let i = buf.indexOf(0x0a, from);
  while (i !== -1) {
    // "\n\n" or "\n\r\n" after a line end marks the blank line.
    if (buf[i + 1] === 0x0a) return { headEnd: i + 1, bodyStart: i + 2 };
    if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return { headEnd: i + 1, bodyStart: i + 3 };
    i = buf.indexOf(0x0a, i + 1);
  }
  return null;
}

function stripNul(b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(b.length);
  let n = 0;
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) out[n++] = b[i]!;
  return out.subarray(0, n);
}
