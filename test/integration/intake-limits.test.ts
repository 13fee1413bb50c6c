// Over-long lines, NUL bytes and slow clients, as an attacker sends them: the proxy, the milter
// and `sluice scan` give the same reply for the same message (one MessageWriter behind all
// three); the proxy drains the rest of DATA, so the session stays in step; nothing altered
// is ever acknowledged. The next hop is the in-process recording sink (no packages needed).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { startProxy, type Proxy } from "../helpers/proxy.ts";
import { SmtpSink } from "../helpers/sink.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { startMilter } from "../../src/milter/start.ts";
import type { MilterServer } from "../../src/milter/server.ts";
import { mta, TestMta } from "../helpers/milter-mta.ts";
import { Cmd, Proto } from "../../src/milter/constants.ts";
import { freePort } from "../helpers/ports.ts";
import { scanFile } from "../../src/cli/scan.ts";

let milterPort = 0;

const config =
  (sinkPort: number, extra = "") =>
  (dir: string) => `
store: sqlite:${dir}/store.db
spool: { dir: ${dir}/spool }
delivery: smtp://127.0.0.1:${sinkPort}
smtp:
  hostname: mx.test
  listeners:
    inbound: { listen: "127.0.0.1:0" }
    submission: { enabled: false }
    submissions: { enabled: false }
  limits: { idle_timeout_s: 5, command_timeout_s: 0.5, data_timeout_s: 0.5, min_data_rate: 2000 }
milter: { listen: ["inet:127.0.0.1:${milterPort}"], progress_interval_ms: 0 }
limits: { message_bytes: 4000000, header_bytes: 2000000 ${extra} }
tenants:
  - id: example
    domains: [example.com]
    users: [{ address: bob@example.com, spam_filter: false }]
`;

/** Send one message through the proxy; returns the reply to the final dot. */
async function viaProxy(port: number, message: Buffer): Promise<{ reply: string; next: string }> {
  const c = await RawClient.open(port);
  try {
    await c.reply();
    await c.cmd("EHLO attacker.test");
    await c.cmd("MAIL FROM:<a@remote.test>");
    expect(await c.cmd("RCPT TO:<bob@example.com>")).toMatch(/^250/);
    expect(await c.cmd("DATA")).toMatch(/^354/);
    // In uneven pieces, as a network delivers them.
    for (let i = 0, n = 1; i < message.length; i += n, n = (n * 7919) % 65_521) {
      c.send(message.subarray(i, i + n));
      if (i % 5 === 0) await new Promise((r) => setImmediate(r));
    }
    c.send(".\r\n");
    const reply = await c.reply(20_000);
    // The session is still in step after a refusal: the next command gets its own answer.
    const next = await c.cmd("NOOP");
    return { reply, next };
  } finally {
    c.close();
  }
}

/** Split a message into header fields and body as an MTA hands them to a milter. */
async function viaMilter(port: number, message: Buffer): Promise<string> {
  const c = await TestMta.open(port);
  try {
    c.send(mta.optneg(6, 0x1ff, 0x1fffff | Proto.MDS_1M));
    // The milter negotiates "no reply" for stages no filter hooks: wait only where it answers.
    const proto = (await c.next())!.data.readUInt32BE(8);
    const step = async (nr: number, ...p: Buffer[]) => {
      c.send(...p);
      if (!(proto & nr)) await c.untilFinal();
    };
    await step(Proto.NR_CONN, mta.connect("client.test", "4", 4000, "192.0.2.1"));
    await step(Proto.NR_HELO, mta.helo("client.test"));
    await step(Proto.NR_MAIL, mta.macro(Cmd.MAIL, { i: "Q1" }), mta.mail("<a@remote.test>"));
    await step(Proto.NR_RCPT, mta.rcpt("<bob@example.com>"));
    const sep = message.indexOf("\r\n\r\n");
    const head = message.subarray(0, sep).toString("latin1");
    for (const field of head.split(/\r\n(?![ \t])/)) {
      const colon = field.indexOf(":");
      await step(Proto.NR_HDR, mta.header(field.slice(0, colon), field.slice(colon + 1).trimStart()));
    }
    await step(Proto.NR_EOH, mta.eoh());
    const body = message.subarray(sep + 4);
    for (let i = 0; i < body.length; i += 65_535) {
      c.send(mta.body(body.subarray(i, i + 65_535)));
      // Without NR_BODY each chunk is answered (continue, or skip once the message is refused).
      if (!(proto & Proto.NR_BODY)) await c.untilFinal();
    }
    c.send(mta.eom());
    const final = (await c.untilFinal(20_000)).pop()!;
    return final.code === "y" ? final.strings.join(" ") : final.code;
  } finally {
    c.close();
  }
}

describe("intake limits: proxy, milter and scan give one answer", () => {
  const sink = new SmtpSink();
  let proxy: Proxy;
  let milter: MilterServer;
  const files = mkdtempSync(join(tmpdir(), "sluice-intake-"));

  beforeAll(async () => {
    await sink.start();
    milterPort = await freePort();
    proxy = await startProxy(config(sink.port));
    milter = (await startMilter(proxy.runtime, proxy.runtime.log))!;
  });
  afterAll(async () => {
    await milter?.close();
    await proxy?.close();
    await sink.stop();
  });

  const scan = async (message: Buffer) => {
    const f = join(files, `m${Math.random()}.eml`);
    writeFileSync(f, message);
    const r = await scanFile(proxy.runtime, f, {
      from: "a@remote.test",
      rcpt: ["bob@example.com"],
      ip: "192.0.2.1",
      helo: "client.test",
      json: true,
      explain: false,
    });
    return r.error ?? r.reply ?? "accepted";
  };

  const msg = (head: string, body: string) =>
    Buffer.from(`From: <a@remote.test>\r\nSubject: t\r\n${head}\r\n${body}`, "latin1");

  it("refuses a 1 MB header line with 554 5.6.0, the same four times out of four, and delivers nothing", async () => {
    const m = msg(`X-Long: ${"a".repeat(1_048_576)}\r\n`, "body\r\n");
    const before = sink.count;
    for (let run = 0; run < 4; run++) {
      const { reply, next } = await viaProxy(proxy.port("inbound"), m);
      expect(reply).toMatch(/^554 5\.6\.0 message line longer than 131072 bytes \[ref [0-9A-Z]{16}\]$/);
      expect(next).toMatch(/^250/);
    }
    expect(sink.count).toBe(before);
    const refused = "554 5.6.0 message line longer than 131072 bytes";
    expect(await scan(m)).toBe(refused);
    // An MTA sends a header field in one packet (at most 1 MB with SMFIP_MDS_1M): 200 KB here;
    // a long body line arrives in many body packets.
    const header200k = msg(`X-Long: ${"a".repeat(200_000)}\r\n`, "body\r\n");
    const body1m = msg("", `${"d".repeat(1_048_576)}\r\n`);
    for (const x of [header200k, body1m]) {
      expect(await viaMilter(milterPort, x)).toBe(refused);
      expect(await scan(x)).toBe(refused);
      expect((await viaProxy(proxy.port("inbound"), x)).reply).toMatch(/^554 5\.6\.0 message line longer/);
    }
    expect(sink.count).toBe(before);
  }, 60_000);

  it("passes a 64 KiB header line and a 100 KB body line intact", async () => {
    const m = msg(`X-Long: ${"b".repeat(65_536)}\r\n`, `${"c".repeat(100_000)}\r\nend\r\n`);
    const before = sink.count;
    const { reply } = await viaProxy(proxy.port("inbound"), m);
    expect(reply).toMatch(/^250 2\.0\.0/);
    const got = (await sink.waitFor(before + 1))[before]!.data;
    expect(got.endsWith(m.toString("latin1"))).toBe(true);
    expect(await viaMilter(milterPort, m)).toBe("c");
    expect(await scan(m)).toBe("accepted");
  });

  it("refuses NUL bytes with 554 5.6.0 in all three front ends", async () => {
    const m = msg("", "hello\0world\r\n");
    const before = sink.count;
    const { reply, next } = await viaProxy(proxy.port("inbound"), m);
    expect(reply).toMatch(/^554 5\.6\.0 NUL character in message data \[ref /);
    expect(next).toMatch(/^250/);
    expect(sink.count).toBe(before);
    expect(await viaMilter(milterPort, m)).toBe("554 5.6.0 NUL character in message data");
    expect(await scan(m)).toBe("554 5.6.0 NUL character in message data");
  });

  it("strips NUL bytes when policy says so (limits.nul_bytes: strip)", async () => {
    const p = await startProxy(config(sink.port, ", nul_bytes: strip"));
    try {
      const before = sink.count;
      const { reply } = await viaProxy(p.port("inbound"), msg("", "hello\0world\r\n"));
      expect(reply).toMatch(/^250 2\.0\.0/);
      expect((await sink.waitFor(before + 1))[before]!.data).toContain("helloworld\r\n");
    } finally {
      await p.close();
    }
  });

  it("closes a command line that trickles in (slowloris) with 421 4.4.2", async () => {
    const c = await RawClient.open(proxy.port("inbound"));
    await c.reply();
    const t0 = Date.now();
    for (let i = 0; i < 40 && !c.closed; i++) {
      c.send("N");
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await c.reply()).toBe("421 4.4.2 Command line timeout, closing connection");
    expect(Date.now() - t0).toBeLessThan(1500);
    c.close();
  });

  it("closes DATA that trickles in below the minimum rate with 421 4.4.2", async () => {
    const c = await RawClient.open(proxy.port("inbound"));
    await c.reply();
    await c.cmd("EHLO slow.test");
    await c.cmd("MAIL FROM:<a@remote.test>");
    await c.cmd("RCPT TO:<bob@example.com>");
    expect(await c.cmd("DATA")).toMatch(/^354/);
    const t0 = Date.now();
    for (let i = 0; i < 60 && !c.closed; i++) {
      c.send("x");
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await c.reply()).toBe("421 4.4.2 Data rate too low, closing connection");
    expect(Date.now() - t0).toBeLessThan(2000);
    c.close();
  });
});
