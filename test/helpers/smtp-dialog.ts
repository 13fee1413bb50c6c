// A minimal SMTP dialog for milter tests: one command, one reply, no pipelining, no TLS.
// It shows exactly what a client sees (codes and texts), which is what the tests assert on.
import { connect, type Socket } from "node:net";

export interface SmtpReplyLine {
  code: number;
  text: string;
}

export class SmtpClient {
  private readonly socket: Socket;
  private buf = "";
  private lines: string[] = [];
  private waiter: (() => void) | null = null;
  private closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding("utf8");
    socket.on("data", (c: string) => {
      this.buf += c;
      let nl: number;
      while ((nl = this.buf.indexOf("\r\n")) !== -1) {
        this.lines.push(this.buf.slice(0, nl));
        this.buf = this.buf.slice(nl + 2);
      }
      this.waiter?.();
    });
    socket.on("close", () => {
      this.closed = true;
      this.waiter?.();
    });
    socket.on("error", () => {});
  }

  static async open(port: number, host = "127.0.0.1"): Promise<SmtpClient> {
    const s = connect(port, host);
    await new Promise<void>((resolve, reject) => {
      s.once("connect", resolve);
      s.once("error", reject);
    });
    const c = new SmtpClient(s);
    await c.reply();
    return c;
  }

  /** The next (possibly multi-line) reply. */
  async reply(timeoutMs = 30000): Promise<SmtpReplyLine> {
    const deadline = Date.now() + timeoutMs;
    const text: string[] = [];
    for (;;) {
      while (this.lines.length > 0) {
        const l = this.lines.shift()!;
        text.push(l.slice(4));
        if (l[3] !== "-") return { code: Number(l.slice(0, 3)), text: text.join("\n") };
      }
      if (this.closed) throw new Error("SMTP connection closed");
      if (Date.now() > deadline) throw new Error("SMTP reply timed out");
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(0, deadline - Date.now()));
        this.waiter = () => {
          clearTimeout(t);
          this.waiter = null;
          r();
        };
      });
    }
  }

  async cmd(line: string): Promise<SmtpReplyLine> {
    this.socket.write(line + "\r\n");
    return this.reply();
  }

  /** MAIL, RCPTs, DATA; returns the final reply (or the first failing one). */
  async send(from: string, to: string[], message: string): Promise<SmtpReplyLine> {
    let r = await this.cmd(`MAIL FROM:<${from}>`);
    if (r.code !== 250) return r;
    let accepted = 0;
    for (const t of to) {
      r = await this.cmd(`RCPT TO:<${t}>`);
      if (r.code === 250) accepted++;
    }
    if (accepted === 0) return r;
    r = await this.cmd("DATA");
    if (r.code !== 354) return r;
    const body = message.replace(/\r?\n/g, "\r\n").replace(/^\./gm, "..");
    this.socket.write(body + (body.endsWith("\r\n") ? "" : "\r\n") + ".\r\n");
    return this.reply();
  }

  async quit(): Promise<void> {
    try {
      await this.cmd("QUIT");
    } catch {
      // Already closed by the server.
    }
    this.socket.destroy();
  }
}
