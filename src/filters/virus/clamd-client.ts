// Our own clamd client: INSTREAM (length-prefixed chunks) over TCP or a unix socket, inside
// IDSESSION so one connection serves many scans, with timeouts, failover across instances and
// StreamMaxLength refusals reported as a result. Not a filter (virus-filter.ts); no TLS.
// Trusts nothing it reads from clamd beyond the NUL-terminated reply line format.
import { connect, type Socket } from "node:net";
import type { Readable } from "node:stream";
import { ClamdError, ClamdUnavailableError } from "./errors.ts";

export type ClamdEndpoint = { host: string; port: number } | { socket: string };

export interface ClamdClientOptions {
  endpoints: readonly ClamdEndpoint[];
  /** Per attempt: connect + send + reply. */
  timeoutMs: number;
  /** Largest INSTREAM chunk; must stay below clamd's StreamMaxLength. */
  chunkBytes: number;
  /** Idle sessions kept per instance. */
  maxIdle?: number;
  /** Idle sessions are closed after this long (below clamd's IdleTimeout, 30 s by default). */
  idleMs?: number;
  /** After a connect failure an instance is tried last for this long. */
  downMs?: number;
}

export type ScanOutcome =
  | { status: "clean"; endpoint: string; reused: boolean }
  | { status: "infected"; signatures: string[]; endpoint: string; reused: boolean }
  /** clamd refused the stream as larger than its StreamMaxLength. */
  | { status: "too-large"; endpoint: string; reused: boolean };

export function endpointName(e: ClamdEndpoint): string {
  return "socket" in e ? e.socket : `${e.host}:${e.port}`;
}

const END = Buffer.alloc(4);

/** One connection in IDSESSION mode; clamd answers each command with "<id>: <reply>\0". */
class Session {
  readonly socket: Socket;
  readonly name: string;
  private buf = "";
  private waiter: ((r: string | Error) => void) | null = null;
  private dead: Error | null = null;
  idleTimer: NodeJS.Timeout | null = null;
  uses = 0;

  private constructor(socket: Socket, name: string) {
    this.socket = socket;
    this.name = name;
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => {
      this.buf += d;
      const nul = this.buf.indexOf("\0");
      if (nul === -1) {
        if (this.buf.length > 64 * 1024) this.fail(new ClamdError("protocol", name, "reply line too long"));
        return;
      }
      const line = this.buf.slice(0, nul);
      this.buf = this.buf.slice(nul + 1);
      const w = this.waiter;
      this.waiter = null;
      w?.(line);
    });
    socket.on("error", (err) => this.fail(new ClamdError("closed", name, err.message, { cause: err })));
    socket.on("close", () => this.fail(new ClamdError("closed", name, "connection closed before a reply")));
  }

  static open(e: ClamdEndpoint, timeoutMs: number): Promise<Session> {
    const name = endpointName(e);
    return new Promise((resolve, reject) => {
      const socket = "socket" in e ? connect({ path: e.socket }) : connect({ host: e.host, port: e.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ClamdError("timeout", name, `no connection in ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once("error", (err) => {
        clearTimeout(timer);
        reject(new ClamdError("connect", name, err.message, { cause: err }));
      });
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.setNoDelay(true);
        const s = new Session(socket, name);
        socket.write("zIDSESSION\0");
        resolve(s);
      });
    });
  }

  get alive(): boolean {
    return this.dead === null && !this.socket.destroyed;
  }

  private fail(err: Error): void {
    this.dead ??= err;
    const w = this.waiter;
    this.waiter = null;
    w?.(this.dead);
  }

  /** Next reply line; rejects when the connection ends first. */
  private reply(): Promise<string> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      this.waiter = (r) => (r instanceof Error ? reject(r) : resolve(r));
    });
  }

  async instream(source: Readable, chunkBytes: number): Promise<{ line: string; gotReply: boolean }> {
    this.uses++;
    let answered = false;
    const replied = this.reply().then(
      (line) => {
        answered = true;
        return line;
      },
      (err: Error) => {
        answered = true;
        throw err;
      },
    );
    // Stop sending as soon as clamd answers early (size limit) or goes away.
    const pump = (async () => {
      await this.write(Buffer.from("zINSTREAM\0", "latin1"));
      for await (const piece of source as AsyncIterable<Buffer>) {
        for (let at = 0; at < piece.length && !answered; at += chunkBytes) {
          const part = piece.subarray(at, at + chunkBytes);
          // One write per frame: a lone 4-byte header would wait on Nagle + delayed ACK (~40 ms).
          const frame = Buffer.allocUnsafe(4 + part.length);
          frame.writeUInt32BE(part.length, 0);
          part.copy(frame, 4);
          await this.write(frame);
          // Let an early reply (size limit) be read before the next frame: writing on after
          // clamd closed draws a reset, and Linux drops unread data on reset.
          await new Promise((r) => setImmediate(r));
        }
        if (answered) break;
      }
      if (!answered) await this.write(END);
    })();
    pump.catch(() => {}); // a write failure shows as the reply's failure
    try {
      const line = await replied;
      return { line, gotReply: true };
    } finally {
      source.destroy();
    }
  }

  private write(b: Buffer): Promise<void> {
    if (!this.alive) return Promise.reject(this.dead ?? new Error("closed"));
    if (this.socket.write(b)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        this.socket.off("drain", done);
        this.socket.off("close", done);
        if (this.alive) resolve();
        else reject(this.dead ?? new Error("closed"));
      };
      this.socket.on("drain", done);
      this.socket.on("close", done);
    });
  }

  close(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.alive) this.socket.end("zEND\0");
    this.socket.destroy();
  }
}

interface Instance {
  endpoint: ClamdEndpoint;
  name: string;
  idle: Session[];
  downUntil: number;
}

export interface ClamdStats {
  connects: number;
  reuses: number;
  failovers: number;
}

export class ClamdClient {
  private readonly instances: Instance[];
  private readonly opts: Required<ClamdClientOptions>;
  readonly stats: ClamdStats = { connects: 0, reuses: 0, failovers: 0 };

  constructor(opts: ClamdClientOptions) {
    this.opts = { maxIdle: 4, idleMs: 10_000, downMs: 5_000, ...opts };
    this.instances = opts.endpoints.map((endpoint) => ({
      endpoint,
      name: endpointName(endpoint),
      idle: [],
      downUntil: 0,
    }));
  }

  /**
   * Scans the bytes `open()` yields (called again for each attempt, so a spool can be re-read).
   * Tries the instances in order, instances that failed recently last; throws
   * ClamdUnavailableError when none answers.
   */
  async scan(open: () => Readable, signal?: AbortSignal): Promise<ScanOutcome> {
    const now = Date.now();
    const order = [...this.instances].sort((a, b) => Number(a.downUntil > now) - Number(b.downUntil > now));
    const errors: ClamdError[] = [];
    for (const inst of order) {
      if (signal?.aborted) errors.push(new ClamdError("aborted", inst.name, "aborted"));
      if (signal?.aborted) break;
      try {
        const r = await this.scanOn(inst, open, signal);
        if (errors.length) this.stats.failovers++;
        return r;
      } catch (err) {
        if (!(err instanceof ClamdError)) throw err;
        if (err.kind === "connect" || err.kind === "timeout") inst.downUntil = Date.now() + this.opts.downMs;
        errors.push(err);
      }
    }
    throw new ClamdUnavailableError(errors);
  }

  private async scanOn(inst: Instance, open: () => Readable, signal?: AbortSignal): Promise<ScanOutcome> {
    // A pooled session may have been closed by clamd meanwhile: one retry on a fresh connection.
    for (let attempt = 0; ; attempt++) {
      const pooled = attempt === 0 ? this.takeIdle(inst) : null;
      try {
        return await this.attempt(inst, pooled, open, signal);
      } catch (err) {
        if (pooled && err instanceof ClamdError && err.kind === "closed") continue;
        throw err;
      }
    }
  }

  private takeIdle(inst: Instance): Session | null {
    while (inst.idle.length) {
      const s = inst.idle.pop()!;
      if (s.idleTimer) clearTimeout(s.idleTimer);
      if (s.alive) return s;
      s.close();
    }
    return null;
  }

  private async attempt(
    inst: Instance,
    pooled: Session | null,
    open: () => Readable,
    signal?: AbortSignal,
  ): Promise<ScanOutcome> {
    const started = Date.now();
    const session = pooled ?? (await Session.open(inst.endpoint, this.opts.timeoutMs));
    if (pooled) this.stats.reuses++;
    else this.stats.connects++;
    session.socket.ref();
    const left = Math.max(1, this.opts.timeoutMs - (Date.now() - started));
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const guard = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ClamdError("timeout", inst.name, `no reply in ${left} ms`)), left);
      onAbort = () => reject(new ClamdError("aborted", inst.name, "aborted"));
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    let keep = false;
    try {
      const { line } = await Promise.race([session.instream(open(), this.opts.chunkBytes), guard]);
      const outcome = parseReply(line, inst.name, pooled !== null);
      keep = outcome.status !== "too-large";
      return outcome;
    } catch (err) {
      // clamd closes mid-stream when StreamMaxLength is exceeded; its reply can be lost to the
      // reset that our next frame draws. A clamd that still answers PING refused the size.
      if (
        !pooled &&
        err instanceof ClamdError &&
        err.kind === "closed" &&
        /EPIPE|ECONNRESET/.test(err.message)
      ) {
        if (await ping(inst.endpoint, Math.min(2000, this.opts.timeoutMs))) {
          return { status: "too-large", endpoint: inst.name, reused: false };
        }
      }
      throw err;
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
      if (keep) this.release(inst, session);
      else session.close();
    }
  }

  private release(inst: Instance, s: Session): void {
    if (!s.alive || inst.idle.length >= this.opts.maxIdle) return s.close();
    s.socket.unref();
    s.idleTimer = setTimeout(() => {
      inst.idle = inst.idle.filter((x) => x !== s);
      s.close();
    }, this.opts.idleMs);
    s.idleTimer.unref();
    inst.idle.push(s);
  }

  /** Closes every pooled connection. */
  close(): void {
    for (const inst of this.instances) {
      for (const s of inst.idle) s.close();
      inst.idle = [];
    }
  }
}

/** True when the endpoint answers PING with PONG within the time given. */
function ping(e: ClamdEndpoint, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = "socket" in e ? connect({ path: e.socket }) : connect({ host: e.host, port: e.port });
    let got = "";
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("zPING\0"));
    socket.on("data", (d: Buffer) => {
      got += d.toString("latin1");
      if (got.includes("\0")) done(got.startsWith("PONG"));
    });
  });
}

/** "1: stream: OK", "1: stream: Eicar FOUND", "INSTREAM size limit exceeded. ERROR". */
export function parseReply(raw: string, endpoint: string, reused: boolean): ScanOutcome {
  const line = raw.replace(/^\d+: /, "").trim();
  if (/size limit exceeded/i.test(line)) return { status: "too-large", endpoint, reused };
  if (line === "stream: OK") return { status: "clean", endpoint, reused };
  const found = /^stream: (.+) FOUND$/.exec(line);
  if (found) return { status: "infected", signatures: [found[1]!], endpoint, reused };
  if (line.endsWith("ERROR")) throw new ClamdError("scanner", endpoint, line);
  throw new ClamdError("protocol", endpoint, `unexpected reply ${JSON.stringify(line.slice(0, 200))}`);
}
