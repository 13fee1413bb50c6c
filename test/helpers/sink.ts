// A recording SMTP sink for tests: the next hop Postfix delivers to. Accepts every message and
// keeps envelope and bytes in memory. Not a real MTA: no queue, no TLS, no limits beyond tests.
import { createServer, type Server, type Socket } from "node:net";

export interface SunkMessage {
  from: string;
  to: string[];
  data: string;
}

export class SmtpSink {
  readonly messages: SunkMessage[] = [];
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private waiters: (() => void)[] = [];
  /** Record message bytes; false keeps only counts (benchmarks). */
  private readonly keep: boolean;
  count = 0;
  port = 0;

  constructor(keep = true) {
    this.keep = keep;
  }

  async start(port = 0): Promise<number> {
    this.server = createServer((s) => this.session(s));
    await new Promise<void>((r) => this.server!.listen(port, "127.0.0.1", r));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** Resolves once at least n messages have arrived. */
  async waitFor(n: number, timeoutMs = 20000): Promise<SunkMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.count < n) {
      if (Date.now() > deadline)
        throw new Error(`sink: ${this.count} of ${n} messages after ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 100);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.messages;
  }

  private session(socket: Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => {});
    let buf = "";
    let inData = false;
    let data: string[] = [];
    let from = "";
    let to: string[] = [];
    socket.setEncoding("latin1");
    socket.write("220 sink ESMTP\r\n");
    socket.on("data", (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf("\n")) !== -1) {
        const line = buf.slice(0, nl + 1);
        buf = buf.slice(nl + 1);
        if (inData) {
          if (line === ".\r\n" || line === ".\n") {
            inData = false;
            this.count++;
            if (this.keep) this.messages.push({ from, to, data: data.join("") });
            data = [];
            to = [];
            socket.write("250 2.0.0 queued\r\n");
            for (const w of this.waiters.splice(0)) w();
          } else if (this.keep) data.push(line.startsWith(".") ? line.slice(1) : line);
          continue;
        }
        const cmd = line.trim();
        const verb = cmd.slice(0, 4).toUpperCase();
        if (verb === "EHLO") socket.write("250-sink\r\n250-8BITMIME\r\n250 SIZE 104857600\r\n");
        else if (verb === "HELO") socket.write("250 sink\r\n");
        else if (verb === "MAIL") {
          from = /<([^>]*)>/.exec(cmd)?.[1] ?? "";
          to = [];
          socket.write("250 2.1.0 ok\r\n");
        } else if (verb === "RCPT") {
          to.push(/<([^>]*)>/.exec(cmd)?.[1] ?? "");
          socket.write("250 2.1.5 ok\r\n");
        } else if (verb === "DATA") {
          inData = true;
          socket.write("354 go ahead\r\n");
        } else if (verb === "QUIT") {
          socket.end("221 2.0.0 bye\r\n");
        } else if (verb === "RSET") {
          to = [];
          socket.write("250 2.0.0 ok\r\n");
        } else socket.write("250 ok\r\n");
      }
    });
  }
}
