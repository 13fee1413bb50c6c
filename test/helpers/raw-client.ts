// Test helper: a raw SMTP client over a socket, for sending exactly the bytes a test needs
// (smuggling, pipelining, STARTTLS injection) and reading replies.
import { connect, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";

export class RawClient {
  socket: Socket | TLSSocket;
  private buf = "";
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(socket: Socket | TLSSocket) {
    this.socket = socket;
    this.listen(socket);
  }

  private listen(socket: Socket | TLSSocket): void {
    socket.on("data", (d: Buffer) => {
      this.buf += d.toString("utf8");
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on("close", () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on("error", () => undefined);
  }

  /** `localAddress` (plain TCP): connect from another loopback address (127.0.0.2 …), e.g. a listed client. */
  static async open(port: number, tls = false, localAddress?: string): Promise<RawClient> {
    const socket = tls
      ? tlsConnect({ port, host: "127.0.0.1", rejectUnauthorized: false })
      : connect({ port, host: "127.0.0.1", localAddress });
    await new Promise((res, rej) => {
      socket.once(tls ? "secureConnect" : "connect", res);
      socket.once("error", rej);
    });
    return new RawClient(socket);
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Read one complete (possibly multi-line) reply; returns its lines joined by \n. */
  async reply(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = /^((?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n)/.exec(this.buf);
      if (m) {
        this.buf = this.buf.slice(m[1]!.length);
        return m[1]!.trim().replace(/\r\n/g, "\n");
      }
      if (this.closed) return "(closed)";
      if (Date.now() > deadline) throw new Error(`no reply; buffer: ${JSON.stringify(this.buf)}`);
      await new Promise<void>((res) => {
        this.waiters.push(res);
        setTimeout(res, 100);
      });
    }
  }

  async cmd(line: string): Promise<string> {
    this.send(line + "\r\n");
    return this.reply();
  }

  /** Upgrade the socket after a 220 to STARTTLS. */
  async startTls(): Promise<void> {
    const secure = tlsConnect({ socket: this.socket as Socket, rejectUnauthorized: false });
    await new Promise((res, rej) => {
      secure.once("secureConnect", res);
      secure.once("error", rej);
    });
    this.buf = "";
    this.socket = secure;
    this.listen(secure);
  }

  close(): void {
    this.socket.destroy();
  }
}
