// SMTP input framing on one socket: command lines ended by CRLF only, and DATA content
// ended by CRLF.CRLF only, dot-unstuffed. Bare CR or LF is noted, never taken as a line
// end (SMTP smuggling, Dec 2023). Memory is bounded: the socket pauses when we hold enough.
import type { Duplex } from "node:stream";

export class LineTooLongError extends Error {}
export class BareLineEndError extends Error {}

/** The client was too slow: idle before a command, inside a command line, or during DATA. */
export class InputTimeoutError extends Error {
  readonly phase: "idle" | "command" | "data";
  constructor(phase: "idle" | "command" | "data") {
    super(`${phase} timeout`);
    this.name = "InputTimeoutError";
    this.phase = phase;
  }
}

/**
 * Time limits per record, not per byte (Postfix's smtpd_per_record_deadline): a byte a second
 * must not hold a connection for the whole session. Time spent by us (filters, spool writes)
 * never counts against the client: only time spent waiting for its bytes does.
 */
export interface InputDeadlines {
  /** Waiting for the first byte of a command line. */
  idleMs: number;
  /** From the first byte of a command line to its CRLF. */
  lineMs: number;
  /** DATA: the initial credit, and the most credit a client can build up. */
  dataMs: number;
  /** DATA: each byte received earns 1000/minDataRate ms of credit (smtpd_min_data_rate). */
  minDataRate: number;
}

const HIGH_WATER = 256 * 1024;
/** A DATA line longer than this is passed on in pieces, so memory stays bounded. */
const LONG_PIECE = 64 * 1024;

type Phase = { kind: "idle" | "command"; until: number } | { kind: "data"; credit: number } | null;

export class SmtpInput {
  private buf: Buffer = Buffer.alloc(0);
  private socket: Duplex;
  private waiting: (() => void) | null = null;
  private ended = false;
  private readonly maxLine: number;
  /** Deadlines to enforce; null: wait as long as it takes (the caller has its own limits). */
  deadlines: InputDeadlines | null = null;
  private phase: Phase = null;
  /** Bytes received in total, and how many of them have earned DATA credit already. */
  private received = 0;
  private credited = 0;

  constructor(socket: Duplex, maxLine: number) {
    this.socket = socket;
    this.maxLine = maxLine;
    this.attach(socket);
  }

  /** Switch to a new socket (after STARTTLS); anything already buffered is discarded. */
  replaceSocket(socket: Duplex): number {
    const discarded = this.buf.length;
    this.buf = Buffer.alloc(0);
    this.socket.removeAllListeners("data");
    this.socket.removeAllListeners("end");
    this.socket = socket;
    this.attach(socket);
    return discarded;
  }

  /** Bytes received but not yet consumed (pipelined input). */
  get pending(): number {
    return this.buf.length;
  }

  /**
   * Wait up to ms for the client to send anything (or close), consuming nothing: true when input
   * arrived or ended before the time was up (pregreet test).
   */
  async waitForInput(ms: number): Promise<boolean> {
    if (this.buf.length || this.ended) return true;
    if (ms <= 0) return false;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        resolve(false);
      }, ms);
      this.waiting = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  /** Wait until n bytes are buffered (or input ends) and return them without consuming. */
  async peek(n: number): Promise<Buffer> {
    this.startLine();
    while (this.buf.length < n && (await this.more()));
    return this.buf.subarray(0, n);
  }

  /** Consume exactly n bytes (callers peek first). */
  take(n: number): Buffer {
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Drop buffered input (used when a STARTTLS reply is sent). */
  discard(): number {
    const n = this.buf.length;
    this.buf = Buffer.alloc(0);
    return n;
  }

  private attach(socket: Duplex): void {
    socket.on("data", (chunk: Buffer) => {
      this.received += chunk.length;
      this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
      if (this.buf.length > HIGH_WATER) socket.pause();
      this.wake();
    });
    socket.on("end", () => {
      this.ended = true;
      this.wake();
    });
    socket.on("close", () => {
      this.ended = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = null;
    w?.();
  }

  /** A command line starts: idle until its first byte, then the per-line deadline. */
  private startLine(): void {
    const d = this.deadlines;
    if (!d) return;
    const now = Date.now();
    this.phase =
      this.buf.length === 0
        ? { kind: "idle", until: now + d.idleMs }
        : { kind: "command", until: now + d.lineMs };
  }

  /** Wait for more input; false once it has ended. Throws InputTimeoutError past a deadline. */
  private async more(): Promise<boolean> {
    if (this.ended) return false;
    this.socket.resume();
    const phase = this.phase;
    const d = this.deadlines;
    if (!phase || !d) {
      await new Promise<void>((r) => (this.waiting = r));
      return true;
    }
    const started = Date.now();
    const limit = phase.kind === "data" ? phase.credit : phase.until - started;
    const timedOut = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(
        () => {
          this.waiting = null;
          resolve(true);
        },
        Math.max(0, limit),
      );
      this.waiting = () => {
        clearTimeout(timer);
        resolve(false);
      };
    });
    if (timedOut) throw new InputTimeoutError(phase.kind);
    const now = Date.now();
    if (phase.kind === "data") {
      const earned = ((this.received - this.credited) * 1000) / d.minDataRate;
      this.credited = this.received;
      phase.credit = Math.min(d.dataMs, phase.credit - (now - started) + earned);
    } else if (phase.kind === "idle" && this.buf.length > 0) {
      this.phase = { kind: "command", until: now + d.lineMs };
    }
    return true;
  }

  /**
   * The next command line without its CRLF, or null at end of input. Throws BareLineEndError
   * for a bare CR or LF, LineTooLongError past the limit (the rest of the line is skipped).
   */
  async readLine(): Promise<string | null> {
    this.startLine();
    let from = 0;
    for (;;) {
      const lf = this.buf.indexOf(0x0a, from);
      // A CR anywhere but right before the LF is a bare CR (visible once the next byte is in).
      const cr = this.buf.indexOf(0x0d);
      if (cr !== -1 && (lf !== -1 ? cr < lf - 1 : cr < this.buf.length - 1)) {
        this.skipLine(cr);
        throw new BareLineEndError("bare CR");
      }
      if (lf !== -1) {
        if (lf === 0 || this.buf[lf - 1] !== 0x0d) {
          this.buf = this.buf.subarray(lf + 1);
          throw new BareLineEndError("bare LF");
        }
        const line = this.buf.subarray(0, lf - 1).toString("utf8");
        this.buf = this.buf.subarray(lf + 1);
        if (line.length > this.maxLine) throw new LineTooLongError();
        return line;
      }
      if (this.buf.length > this.maxLine + 2) {
        await this.skipToLineEnd();
        throw new LineTooLongError();
      }
      from = this.buf.length;
      if (!(await this.more())) return null;
    }
  }

  private skipLine(pos: number): void {
    const lf = this.buf.indexOf(0x0a, pos);
    this.buf = lf === -1 ? this.buf.subarray(pos) : this.buf.subarray(lf + 1);
  }

  private async skipToLineEnd(): Promise<void> {
    for (;;) {
      const lf = this.buf.indexOf(0x0a);
      if (lf !== -1) {
        this.buf = this.buf.subarray(lf + 1);
        return;
      }
      this.buf = Buffer.alloc(0);
      if (!(await this.more())) return;
    }
  }

  /**
   * Read DATA content up to CRLF.CRLF, calling onChunk with dot-unstuffed bytes (CRLF kept).
   * Returns whether a bare CR or LF was seen; null if the connection ended first.
   */
  async readData(onChunk: (b: Buffer) => Promise<void>): Promise<{ bareLineEnd: boolean } | null> {
    let bare = false;
    let atLineStart = true;
    this.phase = this.deadlines ? { kind: "data", credit: this.deadlines.dataMs } : null;
    this.credited = this.received;
    for (;;) {
      // Process whole lines only, so dot-stuffing and CRLF checks never straddle chunks.
      const lastLf = this.buf.lastIndexOf(0x0a);
      if (lastLf === -1) {
        if (this.buf.length > LONG_PIECE) {
          // A very long line: pass it on in pieces (it is still one line). The last byte stays
          // behind in case it is the CR of the CRLF. Take the piece off the buffer *before*
          // awaiting the consumer: bytes arriving meanwhile are appended and must survive.
          const piece = this.buf.subarray(0, this.buf.length - 1);
          this.buf = this.buf.subarray(this.buf.length - 1);
          if (piece.includes(0x0d)) bare ||= hasBareCr(piece);
          const lineStart = atLineStart;
          atLineStart = false;
          await onChunk(lineStart && piece[0] === 0x2e ? piece.subarray(1) : piece);
          continue; // look at what arrived meanwhile before waiting for more
        }
        if (!(await this.more())) return null;
        continue;
      }
      const block = this.buf.subarray(0, lastLf + 1);
      const out: Buffer[] = [];
      let start = 0;
      let ended = false;
      while (start < block.length) {
        const lf = block.indexOf(0x0a, start);
        const line = block.subarray(start, lf + 1);
        const crlf = lf > 0 && block[lf - 1] === 0x0d;
        if (!crlf) bare = true;
        else if (hasBareCr(line.subarray(0, line.length - 2))) bare = true;
        if (atLineStart && crlf && line.length === 3 && line[0] === 0x2e) {
          ended = true;
          start = lf + 1;
          break;
        }
        out.push(atLineStart && line[0] === 0x2e ? line.subarray(1) : line);
        // Only CRLF ends a line for the purpose of finding ".": a bare LF does not.
        atLineStart = crlf;
        start = lf + 1;
      }
      this.buf = this.buf.subarray(start);
      if (out.length) await onChunk(out.length === 1 ? out[0]! : Buffer.concat(out));
      if (ended) return { bareLineEnd: bare };
    }
  }
}

function hasBareCr(b: Buffer): boolean {
  let i = b.indexOf(0x0d);
  while (i !== -1) {
    if (b[i + 1] !== 0x0a) return true;
    i = b.indexOf(0x0d, i + 1);
  }
  return false;
}
