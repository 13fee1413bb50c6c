// Connection-level defences against real components: a dnsmasq serving listed and unlisted test
// addresses, a refusing zone (127.255.255.254), a malformed zone (answers outside 127/8), a huge
// TXT reason, a slow zone (a second dnsmasq, stopped) and a resolver that is down; the proxy
// (clients connect from 127.0.0.x) and the milter (the MTA's side scripted); pregreet on the
// inbound listener; greylisting and rate limits on SQLite and across two nodes on one PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "node:net";
import { startProxy, type Proxy } from "../helpers/proxy.ts";
import { SmtpSink } from "../helpers/sink.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { DNSMASQ_BIN, missing, startDnsmasq, type Dnsmasq } from "../helpers/dns.ts";
import { freePort } from "../helpers/ports.ts";
import { postgresMissing, startPostgres, type Postgres } from "../helpers/postgres.ts";
import { startMilter } from "../../src/milter/start.ts";
import type { MilterServer } from "../../src/milter/server.ts";
import { mta, TestMta } from "../helpers/milter-mta.ts";
import { hashPassword } from "../../src/policy/password.ts";
import type { TraceEntry } from "../../src/pipeline/trace.ts";

/** The dnsbl filter's RCPT-stage note in a message-log recipient's trace. */
function dnsblNote(trace: unknown[]): string {
  const t = (trace as TraceEntry[]).find((x) => "filter" in x && x.filter === "dnsbl" && x.stage === "rcpt");
  return t && "note" in t ? (t.note ?? "") : "";
}

const dnsMissing = missing("dnsmasq-base", [DNSMASQ_BIN]);
const pgMissing = postgresMissing();

const HUGE = Array.from({ length: 30 }, (_, i) => `reason-part-${i}-${"x".repeat(240)}`).join("");

const ZONES = (server: string, timeoutMs = 400) => `
        dns: { servers: ["${server}"], timeout_ms: ${timeoutMs} }
        exempt_networks: []
        zones:
          - zone: zen.test
            symbol: RBL_ZEN
            score: 2
            codes: { 127.0.0.2: { symbol: RBL_ZEN_SBL, score: 4 }, 127.0.0.10: { symbol: RBL_ZEN_PBL, score: 1.5 } }
          - { zone: wl.test, type: allow, symbol: RCVD_IN_DNSWL_MED, score: -2 }
          - { zone: refused.test, symbol: RBL_REFUSED, score: 5 }
          - { zone: bad.test, symbol: RBL_BAD, score: 5 }
          - { zone: slow.test, symbol: RBL_SLOW, score: 5 }
          - { zone: block.test, symbol: RBL_BLOCK, score: 1, action: reject, txt: true }`;

interface Env {
  dns: Dnsmasq;
  slow: Dnsmasq;
  sink: SmtpSink;
  pw: string;
}

async function environment(): Promise<Env> {
  const slow = await startDnsmasq({
    domains: ["slow.test"],
    address: [["4.0.0.127.slow.test", "127.0.0.2"]],
  });
  // A failed start must not leave the first server behind.
  const dns = await startDnsmasq({
    domains: ["zen.test", "wl.test", "refused.test", "bad.test", "block.test", "uri.test"],
    address: [
      ["2.0.0.127.zen.test", "127.0.0.2"],
      ["2.0.0.127.zen.test", "127.0.0.10"],
      ["3.0.0.127.wl.test", "127.0.10.2"],
      ["2.0.0.127.refused.test", "127.255.255.254"],
      ["3.0.0.127.refused.test", "127.255.255.254"],
      ["3.0.0.127.bad.test", "192.0.2.1"],
      ["4.0.0.127.block.test", "127.0.0.2"],
      ["listed-domain.test.uri.test", "127.0.0.2"],
    ],
    txt: { "4.0.0.127.block.test": HUGE },
    forward: { "slow.test": `127.0.0.1#${slow.port}` },
  }).catch(async (err: unknown) => {
    await slow.close();
    throw err;
  });
  const sink = new SmtpSink();
  await sink.start();
  return { dns, slow, sink, pw: await hashPassword("secret") };
}

const proxyConfig =
  (e: Env, milterPort: number, store = "", dnsServer = e.dns.server) =>
  (dir: string) => `
store: ${store || `sqlite:${dir}/s.db`}
spool: { dir: ${dir}/spool }
delivery: smtp://127.0.0.1:${e.sink.port}
smtp:
  hostname: mx.test
  listeners:
    inbound: { listen: "127.0.0.1:0", pregreet: { enabled: true, wait_ms: 300, pass_ttl_s: 0 } }
    submission: { listen: "127.0.0.1:0", allow_insecure_auth: true }
    submissions: { enabled: false }
milter: { listen: ["inet:127.0.0.1:${milterPort}"], progress_interval_ms: 0 }
policy:
  thresholds: { tag: 5, quarantine: 50, reject: null }
  filters:
    auth: { enabled: false }
    dkim_sign: { enabled: false }
    spam-classifier: { enabled: false }
    dnsbl:
      enabled: true
      options:${ZONES(dnsServer)}
    uribl:
      enabled: true
      options:
        dns: { servers: ["${dnsServer}"], timeout_ms: 400 }
        max_domains: 25
        zones: [{ zone: uri.test, symbol: URIBL_TEST, score: 3 }]
    ratelimit:
      enabled: true
      options: { user: { messages: 3 } }
tenants:
  - id: example
    domains: [example.com]
    users:
      - { address: alice@example.com, password_hash: "${e.pw}" }
      - { address: bob@example.com }
  - id: grey
    domains: [grey.example]
    verify_recipients: false
    policy:
      filters:
        greylist: { enabled: true, options: { delay_s: 1, allow_networks: [] } }
`;

/** An SMTP dialogue from a given loopback address, up to the RCPT replies. */
async function dialogue(port: number, from: string, sender: string, rcpts: string[]) {
  const c = await RawClient.open(port, false, from);
  const banner = await c.reply();
  await c.cmd("EHLO client.test");
  const mail = await c.cmd(`MAIL FROM:<${sender}>`);
  const replies: string[] = [];
  for (const r of rcpts) replies.push(await c.cmd(`RCPT TO:<${r}>`));
  return { c, banner, mail, replies };
}

async function finish(c: RawClient, body = "hello"): Promise<string> {
  await c.cmd("DATA");
  c.send(
    `From: <x@sender.test>\r\nTo: <y@example.com>\r\nSubject: t\r\nMessage-ID: <${Math.random()}@x>\r\n\r\n${body}\r\n.\r\n`,
  );
  const r = await c.reply();
  c.send("QUIT\r\n");
  c.close();
  return r;
}

function refOf(reply: string): string {
  return /\[ref (\w+)\]/.exec(reply)?.[1] ?? /queued as (\w+)/.exec(reply)?.[1] ?? "";
}

describe.skipIf(dnsMissing)("DNS lists, pregreet and greylisting through the proxy and the milter", () => {
  let e: Env;
  let proxy: Proxy;
  let milter: MilterServer;
  let milterPort = 0;

  beforeAll(async () => {
    e = await environment();
    milterPort = await freePort();
    proxy = await startProxy(proxyConfig(e, milterPort));
    milter = (await startMilter(proxy.runtime, proxy.runtime.log))!;
  });
  afterAll(async () => {
    await milter?.close();
    await proxy?.close();
    await e?.sink.stop();
    await e?.dns.close();
    await e?.slow.close();
  });

  it("scores a listed client by its return codes; the trace names the list, the answer and the score", async () => {
    const { c, replies } = await dialogue(proxy.port("inbound"), "127.0.0.2", "a@sender.test", [
      "bob@example.com",
    ]);
    expect(replies[0]).toMatch(/^250/);
    const done = await finish(c);
    expect(done).toMatch(/^250/);
    const [entry] = await proxy.runtime.store!.searchLog({ recipient: "bob@example.com", limit: 1 });
    const r = entry!.recipients[0]!;
    expect(r.symbols).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "RBL_ZEN_SBL", score: 4 }),
        expect.objectContaining({ name: "RBL_ZEN_PBL", score: 1.5 }),
      ]),
    );
    const note = { note: dnsblNote(r.trace) };
    expect(note.note).toContain("zen.test answered 127.0.0.2 → RBL_ZEN_SBL +4");
    expect(note.note).toContain("zen.test answered 127.0.0.10 → RBL_ZEN_PBL +1.5");
    // The refusing zone answered 127.255.255.254 for this address too: named, not counted.
    expect(note.note).toContain("refused.test refused (answered 127.255.255.254)");
    expect(r.symbols.map((s) => s.name)).not.toContain("RBL_REFUSED");
    // Tagged: 5.5 ≥ tag 5.
    const got = e.sink.messages.at(-1)!;
    expect(got.data).toMatch(/X-Spam-Flag: YES/);
  });

  it("refuses at RCPT for a zone with action reject, with its TXT reason cut to one short line", async () => {
    const { c, replies } = await dialogue(proxy.port("inbound"), "127.0.0.4", "a@sender.test", [
      "bob@example.com",
    ]);
    c.close();
    expect(replies[0]).toMatch(
      /^554 5\.7\.1 Service unavailable; client host \[127\.0\.0\.4\] blocked using block\.test; reason-part-0-x+\.\.\. \[ref \w+\]$/,
    );
    expect(replies[0]!.length).toBeLessThan(400);
  });

  it("a refusing, a malformed and a stopped (slow) zone are logged and ignored, never a reject", async () => {
    e.slow.pause();
    try {
      const t0 = Date.now();
      const { c, replies } = await dialogue(proxy.port("inbound"), "127.0.0.3", "a@sender.test", [
        "bob@example.com",
      ]);
      expect(replies[0]).toMatch(/^250/);
      expect(await finish(c)).toMatch(/^250/);
      expect(Date.now() - t0).toBeLessThan(5000);
      const [entry] = await proxy.runtime.store!.searchLog({ recipient: "bob@example.com", limit: 1 });
      const r = entry!.recipients[0]!;
      expect(r.symbols.map((s) => s.name)).toContain("RCVD_IN_DNSWL_MED");
      expect(r.symbols.map((s) => s.name)).not.toEqual(expect.arrayContaining(["RBL_REFUSED"]));
      const note = dnsblNote(r.trace);
      expect(note).toContain("bad.test malformed (answered 192.0.2.1)");
      expect(note).toContain("refused.test refused (answered 127.255.255.254)");
      expect(note).toMatch(/slow\.test error \((ETIMEOUT|ESERVFAIL)/);
    } finally {
      e.slow.resume();
    }
  });

  it("the milter asks the same lists at RCPT and refuses the same client the same way", async () => {
    const m = await TestMta.open(milterPort);
    try {
      m.send(mta.optneg());
      await m.next();
      m.send(mta.connect("client.test", "4", 4000, "127.0.0.4"));
      await m.untilFinal();
      // HELO and MAIL may be negotiated away (no filter refuses there): read on to the RCPT reply.
      m.send(mta.helo("client.test"), mta.mail("<a@sender.test>"), mta.rcpt("<bob@example.com>"));
      let r = (await m.untilFinal()).pop()!;
      while (r.code === "c") r = (await m.untilFinal()).pop()!;
      expect(r.code).toBe("y");
      expect(r.strings.join(" ")).toMatch(
        /^554 5\.7\.1 Service unavailable; client host \[127\.0\.0\.4\] blocked using block\.test/,
      );
    } finally {
      m.socket.destroy();
    }
  });

  it("URI lists: a body full of distinct domains asks at most max_domains, and a listed one scores", async () => {
    const before = (
      await proxy.runtime.metrics.registry.getSingleMetric("sluice_dns_list_lookups_total")!.get()
    ).values
      .filter((v) => v.labels.list === "uri.test")
      .reduce((n, v) => n + v.value, 0);
    const { c } = await dialogue(proxy.port("inbound"), "127.0.0.5", "a@sender.test", ["bob@example.com"]);
    const storm = Array.from(
      { length: 400 },
      (_, i) => `http://n${i}-${Math.random().toString(36).slice(2)}.test/`,
    ).join(" ");
    expect(await finish(c, `see http://www.listed-domain.test/x ${storm}`)).toMatch(/^250/);
    const after = (
      await proxy.runtime.metrics.registry.getSingleMetric("sluice_dns_list_lookups_total")!.get()
    ).values
      .filter((v) => v.labels.list === "uri.test")
      .reduce((n, v) => n + v.value, 0);
    expect(after - before).toBe(25);
    const [entry] = await proxy.runtime.store!.searchLog({ recipient: "bob@example.com", limit: 1 });
    expect(entry!.recipients[0]!.symbols).toContainEqual(
      expect.objectContaining({ name: "URIBL_TEST", score: 3 }),
    );
  });

  it("pregreet: a client that talks before the greeting gets 521 and is cut off; a patient one is greeted", async () => {
    const port = proxy.port("inbound");
    const rude = connect({ port, host: "127.0.0.1" });
    let got = "";
    rude.on("data", (d) => (got += d.toString()));
    rude.on("error", () => undefined);
    rude.write("EHLO bot.test\r\nMAIL FROM:<x@bot.test>\r\n");
    await new Promise((r) => rude.once("close", r));
    expect(got).toMatch(
      /^220-mx\.test ESMTP Sluice\r\n521 5\.5\.1 Protocol error: talked before the greeting \[ref \w+\]\r\n$/,
    );
    const polite = await RawClient.open(port);
    expect(await polite.reply()).toBe("220-mx.test ESMTP Sluice\n220 mx.test ESMTP Sluice");
    expect(await polite.cmd("EHLO client.test")).toMatch(/^250/);
    polite.close();
    const metric = await proxy.runtime.metrics.registry.getSingleMetric("sluice_pregreet_total")!.get();
    expect(metric.values).toContainEqual(expect.objectContaining({ labels: { result: "talked" } }));
  });

  it("greylists a new triplet (451 4.7.1), passes the retry after the delay; submission is never greylisted", async () => {
    const port = proxy.port("inbound");
    let d = await dialogue(port, "127.0.0.6", "news@sender.test", ["x@grey.example"]);
    expect(d.replies[0]).toMatch(/^451 4\.7\.1 Greylisted, please try again in 1 seconds \[ref \w+\]$/);
    d.c.close();
    await new Promise((r) => setTimeout(r, 1100));
    d = await dialogue(port, "127.0.0.7", "news@sender.test", ["x@grey.example"]);
    expect(d.replies[0]).toMatch(/^250/);
    expect(await finish(d.c)).toMatch(/^250/);
    expect(e.sink.messages.at(-1)!.data).toMatch(
      /X-Greylist: delayed \d+ seconds by Sluice \(127\.0\.0\.0\/24\)/,
    );
    const s = await RawClient.open(proxy.port("submission"), false, "127.0.0.8");
    await s.reply();
    await s.cmd("EHLO client.test");
    expect(
      await s.cmd(`AUTH PLAIN ${Buffer.from("\0alice@example.com\0secret").toString("base64")}`),
    ).toMatch(/^235/);
    await s.cmd("MAIL FROM:<alice@example.com>");
    expect(await s.cmd("RCPT TO:<y@grey.example>")).toMatch(/^250/);
    s.close();
  });
});

describe.skipIf(dnsMissing)("a DNS server that is down", () => {
  it("never rejects: lookups fail fast, the mail is accepted and the trace says why", async () => {
    const e = await environment();
    const dead = `127.0.0.1:${await freePort()}`;
    const proxy = await startProxy(proxyConfig(e, await freePort(), "", dead));
    try {
      const t0 = Date.now();
      const { c, replies } = await dialogue(proxy.port("inbound"), "127.0.0.2", "a@sender.test", [
        "bob@example.com",
      ]);
      expect(replies[0]).toMatch(/^250/);
      expect(await finish(c, "http://listed-domain.test/")).toMatch(/^250/);
      expect(Date.now() - t0).toBeLessThan(5000);
      const [entry] = await proxy.runtime.store!.searchLog({ recipient: "bob@example.com", limit: 1 });
      const r = entry!.recipients[0]!;
      expect(r.action).toBe("accept");
      expect(r.symbols.filter((s) => /^RBL|URIBL/.test(s.name))).toEqual([]);
      const note = dnsblNote(r.trace);
      expect(note).toMatch(/zen\.test error \((ECONNREFUSED|ETIMEOUT)/);
    } finally {
      await proxy.close();
      await e.sink.stop();
      await e.dns.close();
      await e.slow.close();
    }
  });
});

describe.skipIf(dnsMissing || pgMissing)(
  "two nodes on one PostgreSQL share greylisting and rate limits",
  () => {
    let pg: Postgres;
    let e: Env;
    let a: Proxy;
    let b: Proxy;

    beforeAll(async () => {
      pg = await startPostgres();
      e = await environment();
      const url = await pg.database();
      a = await startProxy(proxyConfig(e, await freePort(), url));
      b = await startProxy(proxyConfig(e, await freePort(), url));
    }, 180_000);
    afterAll(async () => {
      await a?.close();
      await b?.close();
      await e?.sink.stop();
      await e?.dns.close();
      await e?.slow.close();
      await pg?.destroy();
    });

    it("a triplet first seen on one node passes on the other after the delay", async () => {
      let d = await dialogue(a.port("inbound"), "127.0.0.9", "n@sender.test", ["z@grey.example"]);
      expect(d.replies[0]).toMatch(/^451 4\.7\.1 Greylisted/);
      d.c.close();
      d = await dialogue(b.port("inbound"), "127.0.0.9", "n@sender.test", ["z@grey.example"]);
      expect(d.replies[0]).toMatch(/^451 4\.7\.1 Greylisted, please try again in 1 seconds/);
      d.c.close();
      await new Promise((r) => setTimeout(r, 1100));
      d = await dialogue(b.port("inbound"), "127.0.0.10", "n@sender.test", ["z@grey.example"]);
      expect(d.replies[0]).toMatch(/^250/);
      d.c.close();
    });

    it("a user's messages are counted across both nodes: the fourth in the hour is refused, with its reference id logged", async () => {
      const send = async (node: Proxy) => {
        const s = await RawClient.open(node.port("submission"));
        await s.reply();
        await s.cmd("EHLO client.test");
        await s.cmd(`AUTH PLAIN ${Buffer.from("\0alice@example.com\0secret").toString("base64")}`);
        await s.cmd("MAIL FROM:<alice@example.com>");
        const r = await s.cmd("RCPT TO:<friend@far.test>");
        if (r.startsWith("250")) await finish(s);
        else s.close();
        return r;
      };
      expect(await send(a)).toMatch(/^250/);
      expect(await send(b)).toMatch(/^250/);
      expect(await send(a)).toMatch(/^250/);
      const refused = await send(b);
      expect(refused).toMatch(
        /^451 4\.7\.1 Sending limit reached for alice@example\.com: 3 messages per hour, try again later \[ref \w+\]$/,
      );
      // The refusal's message-log entry is written when the session ends.
      let entry = await b.runtime.store!.getLog(refOf(refused));
      for (let i = 0; !entry && i < 50; i++) {
        await new Promise((r) => setTimeout(r, 100));
        entry = await b.runtime.store!.getLog(refOf(refused));
      }
      expect(entry?.recipients[0]).toMatchObject({ address: "friend@far.test", action: "tempfail" });
      expect(
        (await a.runtime.metrics.registry.getSingleMetric("sluice_ratelimit_exceeded_total")!.get()).values,
      ).toEqual([]);
      expect(
        (await b.runtime.metrics.registry.getSingleMetric("sluice_ratelimit_exceeded_total")!.get()).values,
      ).toContainEqual(expect.objectContaining({ labels: { limit: "user_messages" }, value: 1 }));
    });
  },
);
