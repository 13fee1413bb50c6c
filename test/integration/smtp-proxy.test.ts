// The SMTP proxy with real peers: swaks and smtp-source as clients, Postfix's smtp-sink as
// the next hop. Covers delivery, TLS, AUTH and its limiter, relay control, smuggling,
// STARTTLS injection, next-hop failures, limits and per-recipient outcomes.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { hashPassword } from "../../src/policy/password.ts";
import type { Filter } from "../../src/pipeline/types.ts";
import { haveTool } from "../helpers/require-tool.ts";
import { startSink, SMTP_SINK, type Sink } from "../helpers/smtp-sink.ts";
import { startProxy, type Proxy } from "../helpers/proxy.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { freePort } from "../helpers/ports.ts";
import { holdTick } from "../../src/quarantine/hold-scheduler.ts";
import { routesFor } from "../../src/quarantine/release.ts";

const exec = promisify(execFile);
const enabled = haveTool(SMTP_SINK, "postfix") && haveTool("/usr/bin/swaks", "swaks");

/** Scores "viagra" as spam; group "spam" so the per-user switch applies. */
const fakeSpam: Filter = {
  name: "test_spam",
  group: "spam",
  stages: ["data"],
  priority: 50,
  enabledByDefault: true,
  parseOptions: () => ({}),
  async check(ctx) {
    const body = (await ctx.tx!.spool!.buffer()).toString();
    return {
      symbols: [{ name: "TEST_SPAM", score: body.includes("viagra") ? 15 : 0 }],
      headers: [{ op: "add", name: "X-Test-Spam", value: "scanned" }],
    };
  },
};

let hash: string | undefined;

function config(sinkPort: number, extra = "") {
  return (dir: string) => `
store: sqlite:${dir}/store.db
delivery: smtp://127.0.0.1:${sinkPort}
smtp:
  hostname: mx.test
  listeners:
    inbound: { listen: "127.0.0.1:0", proxy_protocol: false }
    submission: { listen: "127.0.0.1:0" }
    submissions: { listen: "127.0.0.1:0" }
  auth: { failure_delay_ms: 10, max_failures: 3, window_s: 60 }
  limits: { max_recipients: 3, max_line_length: 1000, max_connections_per_ip: 50, idle_timeout_s: 30, next_hop_timeout_s: 5 }
limits: { message_bytes: 200000, header_bytes: 20000 }
policy:
  thresholds: { tag: 5, quarantine: 10, reject: 50 }
tenants:
  - id: example
    domains: [example.com]
    ${extra}
    users:
      - { address: alice@example.com, spam_filter: true, password_hash: "${hash}", aliases: [al@example.com] }
      - { address: bob@example.com, spam_filter: false }
`;
}

async function swaks(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await exec("swaks", ["--timeout", "20", "--hide-informational", ...args]);
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

describe.skipIf(!enabled)("SMTP proxy with real peers", () => {
  let sink: Sink;
  let proxy: Proxy;

  beforeAll(async () => {
    hash = await hashPassword("s3cret");
    sink = await startSink();
    proxy = await startProxy(config(sink.port), [fakeSpam]);
  });
  afterAll(async () => {
    await proxy?.close();
    await sink?.stop();
  });

  const inbound = () => String(proxy.port("inbound"));
  const submission = () => String(proxy.port("submission"));

  it("delivers a plain message to the next hop with our Received header and the body unchanged", async () => {
    const before = sink.messages().length;
    const r = await swaks([
      "-s",
      "127.0.0.1",
      "-p",
      inbound(),
      "-f",
      "someone@remote.org",
      "-t",
      "bob@example.com",
      "--body",
      "Hello Bob\nline 2",
    ]);
    expect(r.out).toMatch(/<- {2}250 2\.0\.0 Ok: queued as [0-9A-Z]{16}/);
    const msgs = sink.messages();
    expect(msgs.length).toBe(before + 1);
    const m = msgs[msgs.length - 1]!;
    expect(m).toMatch(
      /Received: from \S+ \(unknown \[127\.0\.0\.1\]\)\n\tby mx\.test \(Sluice\) with ESMTP id/,
    );
    expect(m).toContain("Hello Bob\nline 2");
  });

  it("does not scan or tag for a recipient with the spam filter OFF", async () => {
    const r = await swaks([
      "-s",
      "127.0.0.1",
      "-p",
      inbound(),
      "-f",
      "x@remote.org",
      "-t",
      "bob@example.com",
      "--body",
      "cheap viagra",
    ]);
    expect(r.out).toMatch(/250 2\.0\.0 Ok/);
    const m = sink.messages().pop()!;
    expect(m).toContain("cheap viagra");
    expect(m).not.toContain("X-Test-Spam");
    expect(m).not.toContain("X-Spam-Flag");
  });

  it("delivers over STARTTLS with AUTH on submission, and over implicit TLS on submissions", async () => {
    const r = await swaks([
      "-s",
      "127.0.0.1",
      "-p",
      submission(),
      "-tls",
      "-a",
      "PLAIN",
      "-au",
      "alice@example.com",
      "-ap",
      "s3cret",
      "-f",
      "alice@example.com",
      "-t",
      "friend@elsewhere.org",
    ]);
    expect(r.out).toMatch(/235 2\.7\.0/);
    expect(r.out).toMatch(/250 2\.0\.0 Ok/);
    const m = sink.messages().pop()!;
    expect(m).toMatch(/with ESMTPSA id/);
    expect(m).toMatch(/using TLSv1\.[23] with cipher/);
    const t = await swaks([
      "-s",
      "127.0.0.1",
      "-p",
      String(proxy.port("submissions")),
      "--tls-on-connect",
      "-a",
      "LOGIN",
      "-au",
      "al@example.com",
      "-ap",
      "s3cret",
      "-f",
      "al@example.com",
      "-t",
      "friend@elsewhere.org",
    ]);
    expect(t.out).toMatch(/250 2\.0\.0 Ok/);
  });

  it("never offers or accepts AUTH before STARTTLS, and does not offer it on the inbound listener", async () => {
    const c = await RawClient.open(proxy.port("submission"));
    await c.reply();
    const ehlo = await c.cmd("EHLO client.test");
    expect(ehlo).toContain("STARTTLS");
    expect(ehlo).not.toContain("AUTH");
    expect(
      await c.cmd("AUTH PLAIN " + Buffer.from("\0alice@example.com\0s3cret").toString("base64")),
    ).toMatch(/^538 5\.7\.11/);
    expect(await c.cmd("MAIL FROM:<alice@example.com>")).toMatch(/^530 5\.7\.0/);
    c.close();
    const i = await RawClient.open(proxy.port("inbound"));
    await i.reply();
    expect(await i.cmd("EHLO client.test")).not.toContain("AUTH");
    expect(await i.cmd("AUTH PLAIN AGFsaWNlAHM=")).toMatch(/^502 5\.5\.1/);
    i.close();
  });

  it("is never an open relay", async () => {
    const c = await RawClient.open(proxy.port("inbound"));
    await c.reply();
    await c.cmd("EHLO client.test");
    expect(await c.cmd("MAIL FROM:<x@remote.org>")).toMatch(/^250/);
    expect(await c.cmd("RCPT TO:<victim@elsewhere.org>")).toMatch(/^550 5\.7\.1 Relay access denied/);
    expect(await c.cmd("RCPT TO:<nobody@example.com>")).toMatch(/^550 5\.1\.1/);
    expect(await c.cmd("RCPT TO:<victim@elsewhere.org%example.com>")).toMatch(/^550 5\.7\.1/);
    expect(await c.cmd("RCPT TO:<bob@example.com>")).toMatch(/^250 2\.1\.5/);
    c.close();
  });

  it("refuses a sender address the authenticated user does not own", async () => {
    const c = await RawClient.open(proxy.port("submissions"), true);
    await c.reply();
    await c.cmd("EHLO client.test");
    expect(
      await c.cmd("AUTH PLAIN " + Buffer.from("\0alice@example.com\0s3cret").toString("base64")),
    ).toMatch(/^235/);
    expect(await c.cmd("MAIL FROM:<bob@example.com>")).toMatch(/^553 5\.7\.1/);
    expect(await c.cmd("MAIL FROM:<al@example.com>")).toMatch(/^250/);
    c.close();
  });

  it("refuses bad credentials with a growing delay and locks out after repeated failures", async () => {
    const p = await startProxy(config(sink.port));
    const submission = () => String(p.port("submission"));
    try {
      const bad = () =>
        swaks([
          "-s",
          "127.0.0.1",
          "-p",
          submission(),
          "-tls",
          "-a",
          "PLAIN",
          "-au",
          "alice@example.com",
          "-ap",
          "wrong",
          "-f",
          "alice@example.com",
          "-t",
          "x@elsewhere.org",
        ]);
      for (let i = 0; i < 3; i++) expect((await bad()).out).toMatch(/535 5\.7\.8/);
      const locked = await bad();
      expect(locked.out).toMatch(/421 4\.7\.0 Too many failed authentications/);
      // The right password is refused too while locked out (per address and per user name).
      const good = await swaks([
        "-s",
        "127.0.0.1",
        "-p",
        submission(),
        "-tls",
        "-a",
        "PLAIN",
        "-au",
        "alice@example.com",
        "-ap",
        "s3cret",
        "-f",
        "alice@example.com",
        "-t",
        "x@elsewhere.org",
      ]);
      expect(good.out).toMatch(/421 4\.7\.0/);
    } finally {
      await p.close();
    }
  });

  const smuggling: [string, string][] = [
    ["\\n.\\n", "\n.\n"],
    ["\\r.\\r", "\r.\r"],
    ["\\r\\n.\\r", "\r\n.\r"],
    ["\\n.\\r\\n", "\n.\r\n"],
    ["\\r\\n.\\n", "\r\n.\n"],
  ];
  for (const [name, seq] of smuggling) {
    it(`does not end DATA on ${name} and refuses the message (SMTP smuggling)`, async () => {
      const before = sink.messages().length;
      const c = await RawClient.open(proxy.port("inbound"));
      await c.reply();
      await c.cmd("EHLO client.test");
      await c.cmd("MAIL FROM:<a@remote.org>");
      await c.cmd("RCPT TO:<bob@example.com>");
      expect(await c.cmd("DATA")).toMatch(/^354/);
      c.send(
        `Subject: x\r\n\r\nhello${seq}MAIL FROM:<evil@remote.org>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\nsmuggled\r\n.\r\n`,
      );
      expect(await c.reply()).toMatch(/^550 5\.5\.2 Bare <CR> or <LF>/);
      expect(await c.cmd("QUIT")).toMatch(/^221/);
      expect(sink.messages().length).toBe(before);
    });
  }

  it("refuses a bare LF in a command", async () => {
    const c = await RawClient.open(proxy.port("inbound"));
    await c.reply();
    c.send("EHLO client.test\n");
    expect(await c.reply()).toMatch(/^500 5\.5\.2 Bare/);
    c.close();
  });

  it("discards commands pipelined after STARTTLS (CVE-2011-0411 class)", async () => {
    const c = await RawClient.open(proxy.port("submission"));
    await c.reply();
    await c.cmd("EHLO client.test");
    c.send("STARTTLS\r\nMAIL FROM:<injected@remote.org>\r\n");
    expect(await c.reply()).toMatch(/^220 2\.0\.0/);
    await c.startTls();
    // Had the injected MAIL run inside TLS, this would be a 503 nested MAIL / 530.
    expect(await c.cmd("EHLO client.test")).toMatch(/^250-mx\.test/);
    expect(await c.cmd("AUTH PLAIN " + Buffer.from("\0bob@example.com\0nope").toString("base64"))).toMatch(
      /^535/,
    );
    c.close();
  });

  it("answers 451 4.4.1 when the next hop is down, delivers nothing and stores nothing", async () => {
    const dead = await freePort();
    const p = await startProxy(config(dead), [fakeSpam]);
    try {
      const r = await swaks([
        "-s",
        "127.0.0.1",
        "-p",
        String(p.port("inbound")),
        "-f",
        "x@remote.org",
        "-t",
        "alice@example.com,bob@example.com",
        "--body",
        "cheap viagra",
      ]);
      expect(r.out).toMatch(
        /<\*\*\s+451 4\.4\.1 Next hop not reachable, try again later \[ref [0-9A-Z]{16}\]/,
      );
      expect(await p.runtime.store!.listQuarantine({})).toEqual([]);
    } finally {
      await p.close();
    }
  });

  it("gives the client the next hop's code when the next hop rejects the message", async () => {
    const refusing = await startSink(["-f", "data"]);
    const p = await startProxy(config(refusing.port));
    try {
      const r = await swaks([
        "-s",
        "127.0.0.1",
        "-p",
        String(p.port("inbound")),
        "-f",
        "x@remote.org",
        "-t",
        "bob@example.com",
      ]);
      expect(r.out).toMatch(/<\*\*\s+5\d\d 5\.\d\.\d /);
      expect(refusing.messages()).toEqual([]);
    } finally {
      await p.close();
      await refusing.stop();
    }
  });

  it("one scan, two outcomes: quarantines for alice (ON), delivers untouched to bob (OFF)", async () => {
    const before = sink.messages().length;
    const r = await swaks([
      "-s",
      "127.0.0.1",
      "-p",
      inbound(),
      "-f",
      "spammer@remote.org",
      "-t",
      "alice@example.com,bob@example.com",
      "--body",
      "buy viagra now",
    ]);
    expect(r.out).toMatch(/250 2\.0\.0 Ok: queued as ([0-9A-Z]{16})/);
    const ref = /queued as ([0-9A-Z]{16})/.exec(r.out)![1]!;
    const msgs = sink.messages();
    expect(msgs.length).toBe(before + 1);
    const m = msgs[msgs.length - 1]!;
    expect(m).toContain("X-Rcpt-Args: <bob@example.com>");
    expect(m).not.toContain("alice@example.com>\n");
    expect(m).not.toContain("X-Test-Spam");
    const q = await proxy.runtime.store!.getQuarantine(ref);
    expect(q?.recipients.map((x) => [x.address, x.state])).toEqual([["alice@example.com", "quarantined"]]);
    expect(q?.symbols.map((s) => s.name)).toContain("TEST_SPAM");
    const log = await proxy.runtime.store!.getLog(ref);
    const bob = log!.recipients.find((x) => x.address === "bob@example.com")!;
    expect(JSON.stringify(bob.trace)).toContain("spam filter OFF for this user");
  });

  it("defer mode: the second policy is deferred with 452 4.5.3", async () => {
    const p = await startProxy(config(sink.port, "split_mixed_policies: defer"), [fakeSpam]);
    try {
      const c = await RawClient.open(p.port("inbound"));
      await c.reply();
      await c.cmd("EHLO client.test");
      await c.cmd("MAIL FROM:<x@remote.org>");
      expect(await c.cmd("RCPT TO:<alice@example.com>")).toMatch(/^250/);
      expect(await c.cmd("RCPT TO:<bob@example.com>")).toMatch(/^452 4\.5\.3/);
      c.close();
    } finally {
      await p.close();
    }
  });

  it("passes DSN parameters through to the next hop", async () => {
    const c = await RawClient.open(proxy.port("inbound"));
    await c.reply();
    expect(await c.cmd("EHLO client.test")).toContain("DSN");
    expect(await c.cmd("MAIL FROM:<x@remote.org> RET=HDRS ENVID=abc123")).toMatch(/^250/);
    expect(
      await c.cmd("RCPT TO:<bob@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.com"),
    ).toMatch(/^250/);
    await c.cmd("DATA");
    expect(await c.cmd("Subject: dsn\r\n\r\nhi\r\n.")).toMatch(/^250/);
    c.close();
    const m = sink.messages().pop()!;
    expect(m).toMatch(/X-Mail-Args: <x@remote\.org>.*RET=HDRS/);
    expect(m).toMatch(/ENVID=abc123/);
    expect(m).toMatch(/X-Rcpt-Args: <bob@example\.com> NOTIFY=SUCCESS,FAILURE/);
  });

  it("enforces limits with specific replies", async () => {
    const c = await RawClient.open(proxy.port("inbound"));
    await c.reply();
    expect(await c.cmd("EHLO " + "a".repeat(1200))).toMatch(/^500 5\.5\.2 Line too long/);
    await c.cmd("EHLO client.test");
    await c.cmd("MAIL FROM:<x@remote.org>");
    for (let i = 0; i < 3; i++) expect(await c.cmd("RCPT TO:<bob@example.com>")).toMatch(/^250/);
    expect(await c.cmd("RCPT TO:<bob@example.com>")).toMatch(/^452 4\.5\.3 Too many recipients/);
    await c.cmd("DATA");
    c.send("Subject: big\r\n\r\n" + ("x".repeat(998) + "\r\n").repeat(250) + ".\r\n");
    expect(await c.reply()).toMatch(/^552 5\.3\.4 message exceeds the limit of 200000 bytes/);
    await c.cmd("MAIL FROM:<x@remote.org>");
    await c.cmd("RCPT TO:<bob@example.com>");
    await c.cmd("DATA");
    c.send(
      "X-Big: " +
        "y".repeat(900) +
        "\r\n" +
        ("X-More: " + "z".repeat(900) + "\r\n").repeat(30) +
        "\r\nbody\r\n.\r\n",
    );
    expect(await c.reply()).toMatch(/^552 5\.6\.0 header section exceeds/);
    expect(await c.cmd("MAIL FROM:<x@remote.org> SIZE=999999999")).toMatch(/^552 5\.3\.4/);
    c.close();
  });

  it("limits connections per client address", async () => {
    const p = await startProxy((d) =>
      config(sink.port)(d).replace("max_connections_per_ip: 50", "max_connections_per_ip: 2"),
    );
    try {
      const a = await RawClient.open(p.port("inbound"));
      const b = await RawClient.open(p.port("inbound"));
      expect(await a.reply()).toMatch(/^220/);
      expect(await b.reply()).toMatch(/^220/);
      const c = await RawClient.open(p.port("inbound"));
      expect(await c.reply()).toMatch(/^421 4\.7\.0 Too many connections/);
      a.close();
      b.close();
      c.close();
    } finally {
      await p.close();
    }
  });

  it("closes idle and over-long sessions with 421 4.4.2", async () => {
    const p = await startProxy((d) =>
      config(sink.port)(d).replace("idle_timeout_s: 30", "idle_timeout_s: 0.3, session_timeout_s: 0.8"),
    );
    try {
      const a = await RawClient.open(p.port("inbound"));
      await a.reply();
      expect(await a.reply(3000)).toMatch(/^421 4\.4\.2 Idle timeout/);
      const b = await RawClient.open(p.port("inbound"));
      await b.reply();
      for (let i = 0; i < 6; i++) {
        await new Promise((r) => setTimeout(r, 200));
        const rep = await b.cmd("NOOP");
        if (rep.startsWith("421")) {
          expect(rep).toMatch(/^421 4\.4\.2 Session time limit exceeded/);
          return;
        }
      }
      throw new Error("session was not closed");
    } finally {
      await p.close();
    }
  });

  it("accepts the PROXY protocol (v1 and v2) only where enabled", async () => {
    const p = await startProxy((d) =>
      config(sink.port)(d).replace("proxy_protocol: false", "proxy_protocol: true"),
    );
    try {
      const v1 = await RawClient.open(p.port("inbound"));
      v1.send("PROXY TCP4 198.51.100.7 192.0.2.1 40000 25\r\n");
      expect(await v1.reply()).toMatch(/^220/);
      await v1.cmd("EHLO client.test");
      await v1.cmd("MAIL FROM:<x@remote.org>");
      await v1.cmd("RCPT TO:<bob@example.com>");
      await v1.cmd("DATA");
      expect(await v1.cmd("Subject: p\r\n\r\nhi\r\n.")).toMatch(/^250/);
      expect(sink.messages().pop()!).toContain("[198.51.100.7]");
      const v2 = await RawClient.open(p.port("inbound"));
      const hdr = Buffer.concat([
        Buffer.from("0d0a0d0a000d0a515549540a", "hex"),
        Buffer.from([0x21, 0x11, 0x00, 0x0c, 203, 0, 113, 9, 192, 0, 2, 1, 0x9c, 0x40, 0x00, 0x19]),
      ]);
      v2.send(hdr);
      expect(await v2.reply()).toMatch(/^220/);
      const junk = await RawClient.open(p.port("inbound"));
      junk.send("EHLO no-proxy-header\r\n");
      expect(await junk.reply()).toMatch(/^421 4\.7\.0 Bad PROXY/);
      v1.close();
      v2.close();
    } finally {
      await p.close();
    }
  });

  it("routes a domain to its own next hop over LMTP", async () => {
    const lmtp = await startSink(["-L"]);
    const p = await startProxy((d) =>
      config(sink.port)(d)
        .replace(
          "domains: [example.com]",
          "domains: [example.com, lists.example.com]\n    verify_recipients: false",
        )
        .replace(
          "    users:",
          `    routes: { lists.example.com: "lmtp://127.0.0.1:${lmtp.port}" }\n    users:`,
        ),
    );
    try {
      const before = sink.messages().length;
      const r = await swaks([
        "-s",
        "127.0.0.1",
        "-p",
        String(p.port("inbound")),
        "-f",
        "x@remote.org",
        "-t",
        "dev@lists.example.com,bob@example.com",
      ]);
      expect(r.out).toMatch(/250 2\.0\.0 Ok/);
      expect(lmtp.messages()).toHaveLength(1);
      expect(lmtp.messages()[0]).toContain("X-Rcpt-Args: <dev@lists.example.com>");
      expect(lmtp.messages()[0]).toMatch(/X-Client-Proto: LMTP/);
      expect(sink.messages().length).toBe(before + 1);
    } finally {
      await p.close();
      await lmtp.stop();
    }
  });

  it("closes a session that sends too many commands", async () => {
    const p = await startProxy((d) =>
      config(sink.port)(d).replace(
        "max_connections_per_ip: 50",
        "max_connections_per_ip: 50, max_commands: 5",
      ),
    );
    try {
      const c = await RawClient.open(p.port("inbound"));
      await c.reply();
      for (let i = 0; i < 5; i++) expect(await c.cmd("NOOP")).toMatch(/^250/);
      expect(await c.cmd("NOOP")).toMatch(/^421 4\.7\.0 Too many commands/);
      c.close();
    } finally {
      await p.close();
    }
  });

  it("carries many messages from smtp-source over concurrent sessions", async () => {
    const before = sink.messages().length;
    await exec("/usr/sbin/smtp-source", [
      "-s",
      "5",
      "-m",
      "50",
      "-l",
      "2000",
      "-f",
      "load@remote.org",
      "-t",
      "bob@example.com",
      `127.0.0.1:${inbound()}`,
    ]);
    expect(sink.messages().length).toBe(before + 50);
  });
});

describe.skipIf(!enabled)("Sieve through submission", () => {
  it("holds an outbound message with an attachment to an outside domain (shipped mis-delivery script)", async () => {
    hash ??= await hashPassword("s3cret");
    const sink = await startSink();
    const script = new URL("../../examples/sieve/misdelivery-hold.sieve", import.meta.url).pathname;
    const p = await startProxy((d) =>
      config(sink.port)(d).replace(
        "policy:\n",
        `policy:\n  filters:\n    sieve: { options: { outbound: [${JSON.stringify(script)}] } }\n`,
      ),
    );
    try {
      const r = await swaks([
        "-s",
        "127.0.0.1",
        "-p",
        String(p.port("submission")),
        "-tls",
        "-a",
        "PLAIN",
        "-au",
        "alice@example.com",
        "-ap",
        "s3cret",
        "-f",
        "alice@example.com",
        "-t",
        "partner@other.org",
        "--attach",
        "@/etc/hostname",
      ]);
      expect(r.out).toMatch(/250 2\.0\.0 Ok: queued as ([0-9A-Z]{16})/);
      const ref = /queued as ([0-9A-Z]{16})/.exec(r.out)![1]!;
      const held = await p.runtime.store!.listHolds({ state: "held" });
      expect(held.map((h) => h.id)).toEqual([`${ref}-H1`]);
      expect(held[0]!.reason).toBe("attachment to an external recipient");
      expect(held[0]!.releaseAt.getTime() - Date.now()).toBeGreaterThan(4 * 60_000);
      // The script's notify_template to the sender gives way to the hold queue's own notice (with
      // send-now and cancel links): one notice per held message, from the sender's tenant.
      expect(sink.messages()).toHaveLength(0);
      await holdTick(p.runtime, routesFor(p.runtime));
      const notices = sink.messages();
      expect(notices).toHaveLength(1);
      expect(notices[0]).toContain("X-Mail-Args: <>");
      expect(notices[0]).toContain("X-Rcpt-Args: <alice@example.com>");
      expect(notices[0]).toMatch(/^From: postmaster@example\.com$/m);
      expect(notices[0]).toMatch(/Subject: Your message is on hold/);
      const plain = await swaks([
        "-s",
        "127.0.0.1",
        "-p",
        String(p.port("submission")),
        "-tls",
        "-a",
        "PLAIN",
        "-au",
        "alice@example.com",
        "-ap",
        "s3cret",
        "-f",
        "alice@example.com",
        "-t",
        "partner@other.org",
      ]);
      expect(plain.out).toMatch(/250 2\.0\.0 Ok/);
      expect(sink.messages().length).toBe(2);
    } finally {
      await p.close();
      await sink.stop();
    }
  });
});
