// An MTA that talks to a milter the way Postfix 3.7's smtpd and cleanup do, without Postfix:
// one milter connection per SMTP session, its packet order and macro lists, events it is not
// asked for skipped (macros still sent), no wait where SMFIP_NR_* says so, writes buffered until
// it waits (as Postfix's VSTREAM). For bench/milter.ts --mta sim: the milter's own cost,
// without Postfix and smtp-source sharing the CPU. Not a test double for behaviour.
import { connect, type Socket } from "node:net";
import { Cmd, MacroStage, Proto, Rep } from "../src/milter/constants.ts";
import { FrameReader, frame } from "../src/milter/framing.ts";

const z = (s: string) => Buffer.from(s + "\0", "latin1");
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

/** Postfix 3.7's default macro lists (postconf milter_*_macros), by SMFIM stage. */
const POSTFIX_MACROS: Record<number, string> = {
  [MacroStage.CONNECT]: "j {daemon_name} {daemon_addr} v _",
  [MacroStage.HELO]: "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}",
  [MacroStage.ENVFROM]: "i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer}",
  [MacroStage.ENVRCPT]: "i {rcpt_addr} {rcpt_host} {rcpt_mailer}",
  [MacroStage.DATA]: "i",
  [MacroStage.EOH]: "i",
  [MacroStage.EOM]: "i",
};

function macroValue(name: string, n: number): string | null {
  switch (name) {
    case "j":
    case "{daemon_name}":
      return "mx.sluice.test";
    case "{daemon_addr}":
    case "{client_addr}":
      return "127.0.0.1";
    case "v":
      return "Postfix 3.7.11";
    case "_":
      return "localhost [127.0.0.1]";
    case "{client_name}":
    case "{client_ptr}":
      return "localhost";
    case "{client_port}":
      return String(30000 + (n % 30000));
    case "i":
      return `SIM${n.toString(16).toUpperCase().padStart(8, "0")}`;
    case "{mail_addr}":
      return "from@bench.test";
    case "{rcpt_addr}":
      return "to@sink.test";
    case "{mail_host}":
    case "{rcpt_host}":
      return "[127.0.0.1]:2525";
    case "{mail_mailer}":
    case "{rcpt_mailer}":
      return "smtp";
    default:
      return null; // TLS and AUTH: none on this connection
  }
}

export interface SimResult {
  messages: number;
  seconds: number;
  /** Messages not accepted at end of message (should be none). */
  refused: number;
}

/** Send `n` messages of about `size` bytes over `sessions` parallel SMTP sessions, one message each. */
export async function simulate(
  target: { port?: number; path?: string },
  n: number,
  sessions: number,
  size: number,
): Promise<SimResult> {
  const body = makeBody(size);
  let next = 0;
  let refused = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: sessions }, async () => {
      while (next < n) {
        const id = next++;
        if (!(await oneSession(target, id, body))) refused++;
      }
    }),
  );
  return { messages: n, seconds: Number(process.hrtime.bigint() - t0) / 1e9, refused };
}

function makeBody(size: number): Buffer {
  const line = "La-la-la-la-la-la-la-la-la-la-la-la-la-la-la-la-la-la-la-la-la-la-la-la-la-la.\r\n";
  return Buffer.from(line.repeat(Math.max(1, Math.ceil(size / line.length))));
}

class Conn {
  private readonly reader = new FrameReader(1024 * 1024);
  private readonly frames: { cmd: number; data: Buffer }[] = [];
  private waiting: (() => void) | null = null;
  private out: Buffer[] = [];
  /** The milter's OPTNEG answer: protocol flags and macro lists (SMFIM stage → names). */
  negotiated: { protocol: number; macros: Map<number, string> } | null = null;

  readonly socket: Socket;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (c: Buffer) => {
      this.frames.push(...this.reader.push(c));
      this.waiting?.();
    });
    socket.on("error", () => this.waiting?.());
    socket.on("close", () => this.waiting?.());
  }

  send(cmd: number, data?: Buffer): void {
    this.out.push(frame(cmd, data));
  }

  /** Flush what is buffered, then read replies until a final one (PROGRESS and edits skipped). */
  async reply(): Promise<number> {
    this.flush();
    for (;;) {
      while (this.frames.length) {
        const f = this.frames.shift()!;
        if (f.cmd === Rep.OPTNEG) this.negotiated = parseOptneg(f.data);
        if (f.cmd === Rep.PROGRESS || "h i m b + - 2 e q".split(" ").includes(String.fromCharCode(f.cmd)))
          continue;
        return f.cmd;
      }
      if (this.socket.destroyed) throw new Error("milter closed the connection");
      await new Promise<void>((r) => (this.waiting = r));
      this.waiting = null;
    }
  }

  flush(): void {
    if (this.out.length) this.socket.write(this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out));
    this.out = [];
  }
}

function parseOptneg(d: Buffer): { protocol: number; macros: Map<number, string> } {
  const macros = new Map<number, string>();
  let pos = 12;
  while (pos + 4 < d.length) {
    const stage = d.readUInt32BE(pos);
    const end = d.indexOf(0, pos + 4);
    macros.set(stage, d.subarray(pos + 4, end).toString("latin1"));
    pos = end + 1;
  }
  return { protocol: d.readUInt32BE(8), macros };
}

async function oneSession(
  target: { port?: number; path?: string },
  id: number,
  body: Buffer,
): Promise<boolean> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = target.path ? connect(target.path) : connect(target.port!, "127.0.0.1");
    s.setNoDelay(true);
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
  const c = new Conn(socket);
  try {
    c.send(Cmd.OPTNEG, Buffer.concat([u32(6), u32(0x1ff), u32(0x1fffff)]));
    if ((await c.reply()) !== Rep.OPTNEG) throw new Error("no OPTNEG reply");
    return await transaction(c, id, body);
  } finally {
    c.flush();
    socket.end();
  }
}

async function transaction(c: Conn, id: number, body: Buffer): Promise<boolean> {
  const neg = c.negotiated!;
  const macros = (stage: number, event: number) => {
    const names = (neg.macros.get(stage) ?? POSTFIX_MACROS[stage] ?? "").split(" ").filter(Boolean);
    const pairs = names.flatMap((k) => {
      const v = macroValue(k, id);
      return v === null ? [] : [z(k), z(v)];
    });
    c.send(Cmd.MACRO, Buffer.concat([Buffer.from([event]), ...pairs]));
  };
  // Postfix sends an event's macros even when the event itself is not wanted (SMFIP_NO*).
  const event = async (
    stage: number,
    cmd: number,
    no: number,
    nr: number,
    data?: Buffer,
  ): Promise<boolean> => {
    if (stage >= 0) macros(stage, cmd);
    if (neg.protocol & no) return true;
    c.send(cmd, data);
    if (neg.protocol & nr) return true;
    return (await c.reply()) === Rep.CONTINUE;
  };
  const ok =
    (await event(
      MacroStage.CONNECT,
      Cmd.CONNECT,
      Proto.NOCONNECT,
      Proto.NR_CONN,
      Buffer.concat([z("localhost"), Buffer.from("4"), Buffer.from([0x75, 0x30]), z("127.0.0.1")]),
    )) &&
    (await event(MacroStage.HELO, Cmd.HELO, Proto.NOHELO, Proto.NR_HELO, z("vm"))) &&
    (await event(MacroStage.ENVFROM, Cmd.MAIL, Proto.NOMAIL, Proto.NR_MAIL, z("<from@bench.test>"))) &&
    (await event(MacroStage.ENVRCPT, Cmd.RCPT, Proto.NORCPT, Proto.NR_RCPT, z("<to@sink.test>"))) &&
    (await event(MacroStage.DATA, Cmd.DATA, Proto.NODATA, Proto.NR_DATA));
  if (!ok) return false;
  const headers: [string, string][] = [
    ["From", "<from@bench.test>"],
    ["To", "<to@sink.test>"],
    ["Date", "Thu,  4 Dec 2026 15:00:00 +0000 (UTC)"],
    ["Message-Id", `<${id}.sim@vm>`],
  ];
  const lead = neg.protocol & Proto.HDR_LEADSPC ? " " : "";
  for (const [k, v] of headers) {
    if (
      !(await event(
        MacroStage.EOH,
        Cmd.HEADER,
        Proto.NOHDRS,
        Proto.NR_HDR,
        Buffer.concat([z(k), z(lead + v)]),
      ))
    )
      return false;
  }
  if (!(await event(MacroStage.EOH, Cmd.EOH, Proto.NOEOH, Proto.NR_EOH))) return false;
  for (let i = 0; i < body.length; i += 65535) {
    if (!(await event(MacroStage.EOM, Cmd.BODY, Proto.NOBODY, Proto.NR_BODY, body.subarray(i, i + 65535))))
      return false;
  }
  macros(MacroStage.EOM, Cmd.BODYEOB);
  c.send(Cmd.BODYEOB);
  const final = await c.reply();
  // smtpd and cleanup each abort the milter's transaction afterwards, then QUIT at disconnect.
  c.send(Cmd.ABORT);
  c.send(Cmd.ABORT);
  c.send(Cmd.QUIT);
  // Rspamd answers ACCEPT where Sluice answers CONTINUE: both deliver.
  return final === Rep.CONTINUE || final === Rep.ACCEPT;
}
