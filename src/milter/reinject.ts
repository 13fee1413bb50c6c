// Re-injection of an extra outcome group over SMTP: a copy of the message with that group's
// header edits goes to an MTA listener that has no milter (e.g. Postfix on a second port).
// Not a general SMTP client: no TLS, no AUTH, one message per connection, loopback use.
import { connect, type Socket } from "node:net";
import type { OutcomeGroup } from "../pipeline/session.ts";
import type { Transaction } from "../message/transaction.ts";
import { TOP_HEADERS } from "./actions.ts";

export interface ReinjectOptions {
  host: string;
  port: number;
  /** Name for EHLO. */
  localName: string;
  timeoutMs?: number;
}

export class ReinjectError extends Error {
  readonly reply: string;
  constructor(step: string, reply: string) {
    super(`re-injection failed at ${step}: ${reply.trim()}`);
    this.name = "ReinjectError";
    this.reply = reply;
  }
}

/** The header section for this group's copy: deletions applied, trace headers on top. */
export function editedHeader(tx: Transaction, group: OutcomeGroup): Buffer {
  let fields = tx.headers.fields.map((f) => ({ name: f.name.toLowerCase(), raw: f.raw }));
  const top: Buffer[] = [];
  for (const e of group.edits) {
    const lower = e.name.toLowerCase();
    if (e.op === "delete") {
      fields = fields.filter((f) => f.name !== lower);
      continue;
    }
    const raw = Buffer.from(`${e.name}: ${(e.value ?? "").replace(/\r?\n/g, "\r\n")}\r\n`, "utf8");
    if (TOP_HEADERS.has(lower)) top.unshift(raw);
    else fields.push({ name: lower, raw });
  }
  return Buffer.concat([...top, ...fields.map((f) => f.raw)]);
}

/** Returns a `reinject` callback for MilterServer that delivers each group by SMTP. */
export function smtpReinjector(
  opts: ReinjectOptions,
): (tx: Transaction, group: OutcomeGroup) => Promise<void> {
  return async (tx, group) => {
    if (!tx.spool) throw new Error("re-injection without message data");
    const rcpts = [...(group.redirect ? [group.redirect] : group.recipients), ...group.bcc];
    const s = await Dialog.open(opts);
    try {
      await s.expect("greeting", 220);
      await s.command(`EHLO ${opts.localName}`, 250);
      const from = tx.envelope.mailFrom?.address ?? "";
      const body = tx.envelope.mailFrom?.params.BODY;
      await s.command(`MAIL FROM:<${from}>${typeof body === "string" ? ` BODY=${body}` : ""}`, 250);
      for (const r of rcpts) await s.command(`RCPT TO:<${r}>`, 250);
      await s.command("DATA", 354);
      const stuffer = new DotStuffer();
      await s.write(stuffer.push(editedHeader(tx, group)));
      await s.write(stuffer.push(Buffer.from("\r\n")));
      for await (const c of tx.spool.stream(tx.bodyOffset)) await s.write(stuffer.push(c as Buffer));
      await s.write(stuffer.end());
      await s.expect("end of data", 250);
      s.socket.end("QUIT\r\n");
    } finally {
      s.close();
    }
  };
}

/** Dot-stuffs a byte stream across chunk boundaries and terminates it with CRLF.CRLF. */
export class DotStuffer {
  private atLineStart = true;
  private lastCr = false;
  private lastLf = true;

  push(chunk: Buffer): Buffer {
    if (chunk.length === 0) return chunk;
    const parts: Buffer[] = [];
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.atLineStart && b === 0x2e) {
        parts.push(chunk.subarray(start, i), Buffer.from("."));
        start = i;
      }
      // A bare LF becomes CRLF: SMTP requires it and the spool may hold either.
      if (b === 0x0a && !(i > 0 ? chunk[i - 1] === 0x0d : this.lastCr)) {
        parts.push(chunk.subarray(start, i), Buffer.from("\r"));
        start = i;
      }
      this.atLineStart = b === 0x0a;
    }
    parts.push(chunk.subarray(start));
    this.lastCr = chunk[chunk.length - 1] === 0x0d;
    this.lastLf = chunk[chunk.length - 1] === 0x0a;
    return Buffer.concat(parts);
  }

  end(): Buffer {
    return Buffer.from(this.lastLf ? ".\r\n" : this.lastCr ? "\n.\r\n" : "\r\n.\r\n");
  }
}

class Dialog {
  readonly socket: Socket;
  private buf = "";
  private readonly timeoutMs: number;
  private pending: ((line: string | null) => void) | null = null;
  private lines: string[] = [];
  private closed = false;

  private constructor(socket: Socket, timeoutMs: number) {
    this.socket = socket;
    this.timeoutMs = timeoutMs;
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf("\n")) !== -1) {
        this.lines.push(this.buf.slice(0, nl + 1));
        this.buf = this.buf.slice(nl + 1);
      }
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    socket.on("error", () => undefined);
  }

  static open(o: ReinjectOptions): Promise<Dialog> {
    return new Promise((resolve, reject) => {
      const s = connect(o.port, o.host);
      s.once("connect", () => resolve(new Dialog(s, o.timeoutMs ?? 60_000)));
      s.once("error", reject);
    });
  }

  private wake(): void {
    const p = this.pending;
    this.pending = null;
    p?.(null);
  }

  /** Read one complete (possibly multi-line) reply and check its code. */
  async expect(step: string, code: number): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    let reply = "";
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) {
        reply += line;
        if (line[3] === "-") continue;
        if (Number(line.slice(0, 3)) !== code) throw new ReinjectError(step, reply);
        return;
      }
      if (this.closed) throw new ReinjectError(step, reply || "connection closed");
      if (Date.now() > deadline) throw new ReinjectError(step, "timeout");
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, deadline - Date.now()));
        this.pending = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  }

  async command(line: string, code: number): Promise<void> {
    await this.write(Buffer.from(line + "\r\n", "utf8"));
    await this.expect(line.split(/[ :]/)[0]!, code);
  }

  write(b: Buffer): Promise<void> {
    if (b.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.socket.write(b, (err) => (err ? reject(err) : resolve())));
  }

  close(): void {
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }
}
