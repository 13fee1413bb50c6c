// The MTA side of the milter protocol, for tests and benchmarks only: encodes SMFIC_* commands
// and reads SMFIR_* replies. Not used in production; Postfix or Sendmail play this part there.
import { connect, type Socket } from "node:net";
import { Cmd, Rep } from "../../src/milter/constants.ts";
import { FrameReader, frame, type Frame } from "../../src/milter/framing.ts";

const z = (s: string) => Buffer.from(s + "\0", "utf8");
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

/** Encoders for every command, as an MTA sends them. */
export const mta = {
  optneg: (version = 6, actions = 0x1ff, protocol = 0x1fffff) =>
    frame(Cmd.OPTNEG, Buffer.concat([u32(version), u32(actions), u32(protocol)])),
  macro: (stage: number, pairs: Record<string, string>) =>
    frame(
      Cmd.MACRO,
      Buffer.concat([Buffer.from([stage]), ...Object.entries(pairs).flatMap(([k, v]) => [z(k), z(v)])]),
    ),
  connect: (hostname: string, family: "U" | "L" | "4" | "6", port = 0, address = "") =>
    frame(
      Cmd.CONNECT,
      family === "U"
        ? Buffer.concat([z(hostname), Buffer.from("U")])
        : Buffer.concat([
            z(hostname),
            Buffer.from(family),
            Buffer.from([port >> 8, port & 0xff]),
            z(address),
          ]),
    ),
  helo: (name: string) => frame(Cmd.HELO, z(name)),
  mail: (...args: string[]) => frame(Cmd.MAIL, Buffer.concat(args.map(z))),
  rcpt: (...args: string[]) => frame(Cmd.RCPT, Buffer.concat(args.map(z))),
  data: () => frame(Cmd.DATA),
  header: (name: string, value: string) => frame(Cmd.HEADER, Buffer.concat([z(name), z(value)])),
  eoh: () => frame(Cmd.EOH),
  body: (chunk: Buffer | string) => frame(Cmd.BODY, Buffer.from(chunk)),
  eom: (chunk: Buffer | string = "") => frame(Cmd.BODYEOB, Buffer.from(chunk)),
  abort: () => frame(Cmd.ABORT),
  quit: () => frame(Cmd.QUIT),
  quitNc: () => frame(Cmd.QUIT_NC),
  unknown: (line: string) => frame(Cmd.UNKNOWN, z(line)),
};

export interface DecodedReply {
  /** The reply letter, e.g. "c", "y", "h", "O". */
  code: string;
  data: Buffer;
  /** NUL-separated strings of the payload (after any leading uint32 for i/m). */
  strings: string[];
  index?: number;
}

export function decodeReply(f: Frame): DecodedReply {
  const code = String.fromCharCode(f.cmd);
  let data = f.data;
  let index: number | undefined;
  if (f.cmd === Rep.INSHEADER || f.cmd === Rep.CHGHEADER) {
    index = data.readUInt32BE(0);
    data = data.subarray(4);
  }
  const strings =
    f.cmd === Rep.OPTNEG || f.cmd === Rep.REPLBODY
      ? []
      : data.length === 0
        ? []
        : data.toString("utf8").replace(/\0$/, "").split("\0");
  return { code, data: f.data, strings, ...(index === undefined ? {} : { index }) };
}

/** A scripted MTA connection: send packets, await replies. */
export class TestMta {
  readonly socket: Socket;
  private readonly reader = new FrameReader(1024 * 1024);
  private readonly replies: DecodedReply[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (c: Buffer) => {
      for (const f of this.reader.push(c)) this.replies.push(decodeReply(f));
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    socket.on("error", () => {});
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  static open(port: number | string, host = "127.0.0.1"): Promise<TestMta> {
    return new Promise((resolve, reject) => {
      const s = typeof port === "string" ? connect(port) : connect(port, host);
      s.once("connect", () => resolve(new TestMta(s)));
      s.once("error", reject);
    });
  }

  send(...packets: Buffer[]): void {
    this.socket.write(Buffer.concat(packets));
  }

  /** Next reply, skipping PROGRESS unless asked for; null if the milter closed the connection. */
  async next(timeoutMs = 5000, keepProgress = false): Promise<DecodedReply | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.replies.length > 0) {
        const r = this.replies.shift()!;
        if (r.code !== "p" || keepProgress) return r;
      }
      if (this.closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timed out waiting for a milter reply");
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Replies up to and including the next final action (c a d r t y s). */
  async untilFinal(timeoutMs = 5000): Promise<DecodedReply[]> {
    const out: DecodedReply[] = [];
    for (;;) {
      const r = await this.next(timeoutMs);
      if (!r) throw new Error(`connection closed after ${out.map((x) => x.code).join("")}`);
      out.push(r);
      if ("cadrtys".includes(r.code)) return out;
    }
  }

  /** True once the milter has closed the connection (within the timeout). */
  async waitClosed(timeoutMs = 3000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
      this.replies.length = 0;
    }
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }
}
