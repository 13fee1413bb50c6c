// The connection-level defences through the pipeline (as proxy and milter drive it): DNS list
// symbols, rejects, allow-list skips and the decision trace; greylisting and rate limits on a
// SQLite store with a controlled clock. Real DNS and PostgreSQL: test/integration/defences.test.ts.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { Runtime } from "../../runtime.ts";
import { defenceDeps } from "../../runtime-defences.ts";
import type { Session, StageReply } from "../../pipeline/session.ts";
import type { Filter } from "../../pipeline/types.ts";
import { DnsResolver } from "../auth/dns.ts";
import { createDnsblFilter } from "./dnsbl-filter.ts";
import { createGreylistFilter, greylistSender } from "./greylist-filter.ts";
import { createRatelimitFilter, slidingCount } from "./ratelimit-filter.ts";
import { createUriblFilter } from "./uribl-filter.ts";
import { defenceMetrics, type DefenceMetrics } from "./metrics.ts";

type Answer = unknown[] | { code: string } | "hang";

function stubResolver(answers: Record<string, Answer>, asked: string[] = []): DnsResolver {
  const r = new DnsResolver({ timeoutMs: 100, tries: 1 });
  (r as unknown as { ask: (n: string, t: string) => Promise<unknown> }).ask = async (name, type) => {
    asked.push(`${type} ${name}`);
    const a = answers[`${type} ${name}`] ?? { code: "ENOTFOUND" };
    if (a === "hang") return new Promise(() => {});
    if (!Array.isArray(a)) throw Object.assign(new Error(a.code), { code: a.code });
    return { value: a, ttlS: 60 };
  };
  return r;
}

const ZONES = `
          - zone: zen.test
            symbol: RBL_ZEN
            score: 2
            codes: { 127.0.0.2: { symbol: RBL_ZEN_SBL, score: 4 }, 127.0.0.10: RBL_ZEN_PBL }
          - { zone: wl.test, type: allow, symbol: RCVD_IN_DNSWL, score: -3 }
          - { zone: refusing.test, symbol: RBL_REFUSING, score: 3 }
          - { zone: slow.test, symbol: RBL_SLOW, score: 3 }
          - { zone: block.test, symbol: RBL_BLOCK, score: 1, action: reject, txt: true, ipv6: false }`;

const config = (dir: string, extra = "") => `
store: sqlite:${dir}/s.db
spool: { dir: ${dir}/spool }
policy:
  thresholds: { tag: 5, quarantine: 10, reject: null }
  filters:
    auth: { enabled: false }
    dkim_sign: { enabled: false }
    spam-classifier: { enabled: false }
    dnsbl:
      enabled: true
      options:
        exempt_networks: [203.0.113.0/24]
        zones:${ZONES}
${extra}
tenants:
  - id: example
    domains: [example.com]
    users:
      - { address: alice@example.com }
      - { address: bob@example.com }
      - { address: carol@example.com, rate_limits: { messages_per_hour: 1 } }
  - id: other
    domains: [other.example]
    policy:
      filters:
        dnsbl: { options: { zones: [] } }
        greylist: { enabled: false }
        ratelimit: { options: { user: { messages: 50 } } }
`;

const ANSWERS: Record<string, Answer> = {
  "A 2.2.0.192.zen.test": ["127.0.0.2", "127.0.0.10"],
  "A 3.2.0.192.wl.test": ["127.0.10.3"],
  "A 2.2.0.192.refusing.test": ["127.255.255.254"],
  "A 2.2.0.192.slow.test": "hang",
  "A 4.2.0.192.block.test": ["127.0.0.2"],
  "TXT 4.2.0.192.block.test": [["Blocked, see https://block.test/q?", "192.0.2.4\r\n"]],
  "A b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.zen.test": ["127.0.0.2"],
};

interface Setup {
  rt: Runtime;
  clock: { now: number };
  asked: string[];
  notices: { to: string; message: string }[];
  metrics: DefenceMetrics;
}

async function setup(extra = "", answers = ANSWERS): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-defences-"));
  const asked: string[] = [];
  const resolver = stubResolver(answers, asked);
  const clock = { now: Date.UTC(2026, 0, 1, 12) };
  const notices: { to: string; message: string }[] = [];
  const metrics = defenceMetrics();
  let rt: Runtime | null = null;
  const wiring = defenceDeps(() => rt);
  const filters: Filter[] = [
    createDnsblFilter({ resolver: () => resolver }),
    createUriblFilter({ resolver: () => resolver }),
    createGreylistFilter({ store: () => rt?.store ?? null, now: () => new Date(clock.now), metrics }),
    createRatelimitFilter({
      ...wiring,
      store: () => rt?.store ?? null,
      now: () => new Date(clock.now),
      metrics,
      notifier: () => ({
        send: async (_from: string, to: string, m: Buffer) =>
          void notices.push({ to, message: m.toString() }),
      }),
    }),
  ];
  rt = await Runtime.create({
    configText: config(dir, extra),
    logger: pino({ level: "silent" }),
    extraFilters: filters,
  });
  return { rt, clock, asked, notices, metrics };
}

async function envelope(
  s: Session,
  client: string,
  from: string,
  rcpts: string[],
  opts: { ingress?: "inbound" | "submission" | "milter" | "scan"; auth?: string } = {},
): Promise<StageReply[]> {
  await s.connect({ ingress: opts.ingress ?? "inbound", address: client, localName: "mx.test" });
  await s.helo("client.test");
  if (opts.auth) s.setAuth(opts.auth);
  expect((await s.mail(from, {})).ok).toBe(true);
  const out: StageReply[] = [];
  for (const r of rcpts) out.push(await s.rcpt(r, {}));
  return out;
}

async function data(s: Session, body = "hello") {
  const w = s.beginData();
  await w.write(
    Buffer.from(`From: x@y.test\r\nTo: a@example.com\r\nSubject: t\r\nMessage-ID: <1@y>\r\n\r\n${body}\r\n`),
  );
  await w.end();
  return s.data();
}

describe("dnsbl filter", () => {
  it("gives each code its symbol and score, and the trace names the list, the answer and the score", async () => {
    const { rt } = await setup();
    const s = rt.newSession();
    const [r] = await envelope(s, "192.0.2.2", "a@sender.test", ["alice@example.com"]);
    expect(r!.ok).toBe(true);
    const v = (await data(s)).verdicts[0]!;
    expect(v.symbols).toEqual(
      expect.arrayContaining([
        { name: "RBL_ZEN_SBL", score: 4, detail: "zen.test answered 127.0.0.2 (2.2.0.192.zen.test)" },
        { name: "RBL_ZEN_PBL", score: 2, detail: "zen.test answered 127.0.0.10 (2.2.0.192.zen.test)" },
      ]),
    );
    expect(v.symbols.filter((x) => x.name.startsWith("RBL")).reduce((n, x) => n + x.score, 0)).toBe(6);
    expect(v.action).toBe("accept");
    const rcpt = v.trace.find((t) => "filter" in t && t.filter === "dnsbl" && t.stage === "rcpt");
    expect(rcpt).toMatchObject({
      ran: true,
      symbols: ["RBL_ZEN_SBL", "RBL_ZEN_PBL"],
      note: expect.stringContaining("zen.test answered 127.0.0.2 → RBL_ZEN_SBL +4"),
    });
    // The refusing list's 127.255.255.254 and the hanging list are named, not counted.
    const note = (rcpt as { note: string }).note;
    expect(note).toContain("refusing.test refused (answered 127.255.255.254)");
    expect(note).toMatch(/slow\.test error \(ETIMEOUT/);
    expect(v.symbols.map((x) => x.name)).not.toContain("RBL_REFUSING");
    await rt.close();
  });

  it("a zone with action reject refuses the recipient with 554 5.7.1, the list and its TXT reason", async () => {
    const { rt } = await setup();
    const s = rt.newSession();
    const [r] = await envelope(s, "192.0.2.4", "a@sender.test", ["alice@example.com"]);
    expect(r).toMatchObject({
      ok: false,
      reply: {
        code: 554,
        enhanced: "5.7.1",
        text: expect.stringMatching(
          /^Service unavailable; client host \[192\.0\.2\.4\] blocked using block\.test; Blocked, see https:\/\/block\.test\/q\?192\.0\.2\.4 \[ref \w+\]$/,
        ),
      },
    });
    await rt.close();
  });

  it("asks IPv6 clients with reversed nibbles (and skips zones without IPv6)", async () => {
    const { rt, asked } = await setup();
    const s = rt.newSession();
    await envelope(s, "2001:db8:1:2:3:4:567:89ab", "a@sender.test", ["alice@example.com"]);
    const v = (await data(s)).verdicts[0]!;
    expect(v.symbols.map((x) => x.name)).toContain("RBL_ZEN_SBL");
    expect(asked.some((q) => q.includes("block.test"))).toBe(false);
    await rt.close();
  });

  it("each tenant's own zones; exempt networks and authenticated clients are not looked up", async () => {
    const { rt, asked } = await setup();
    let s = rt.newSession();
    await envelope(s, "192.0.2.2", "a@sender.test", ["x@other.example"]);
    expect((await data(s)).verdicts[0]!.symbols.map((x) => x.name)).not.toContain("RBL_ZEN_SBL");
    asked.length = 0;
    s = rt.newSession();
    await envelope(s, "203.0.113.9", "a@sender.test", ["alice@example.com"]);
    s = rt.newSession();
    await envelope(s, "192.0.2.77", "alice@example.com", ["x@far.test"], {
      ingress: "submission",
      auth: "alice@example.com",
    });
    expect(asked).toEqual([]);
    await rt.close();
  });

  it("an allow-list (DNSWL) hit lowers the score and skips greylisting", async () => {
    const { rt } = await setup("    greylist: { enabled: true, options: { allow_networks: [] } }");
    const s = rt.newSession();
    const [r] = await envelope(s, "192.0.2.3", "a@sender.test", ["alice@example.com"]);
    expect(r!.ok).toBe(true);
    const v = (await data(s)).verdicts[0]!;
    expect(v.symbols).toContainEqual(expect.objectContaining({ name: "RCVD_IN_DNSWL", score: -3 }));
    expect(v.trace).toContainEqual({
      filter: "greylist",
      stage: "rcpt",
      ran: false,
      reason: "wl.test lists the client (127.0.10.3)",
    });
    await rt.close();
  });

  it("a resolver that is down or saturated never rejects: the mail is accepted", async () => {
    const down: Record<string, Answer> = {};
    for (const z of ["zen", "wl", "refusing", "slow", "block"])
      down[`A 4.2.0.192.${z}.test`] = { code: "ECONNREFUSED" };
    const { rt } = await setup("", down);
    const s = rt.newSession();
    const [r] = await envelope(s, "192.0.2.4", "a@sender.test", ["alice@example.com"]);
    expect(r!.ok).toBe(true);
    expect((await data(s)).verdicts[0]!.action).toBe("accept");
    await rt.close();
  });
});

describe("uribl filter", () => {
  it("looks up registrable domains of body URLs once per message and scores hits", async () => {
    const answers: Record<string, Answer> = {
      "A example.co.uk.uri.test": ["127.0.0.2"],
      "A 1.2.0.192.uri.test": ["127.0.0.4"],
      "A bad.test.uri.test": ["127.255.255.254"],
    };
    const uribl = `    uribl:
      enabled: true
      options:
        skip_domains: [example.com]
        zones:
          - { zone: uri.test, symbol: URIBL, score: 1, bits: { "2": { symbol: URIBL_BLACK, score: 5 }, "4": URIBL_GREY } }`;
    const { rt, asked } = await setup(uribl, answers);
    const s = rt.newSession();
    await envelope(s, "198.51.100.1", "a@sender.test", ["alice@example.com", "bob@example.com"]);
    const res = await data(
      s,
      "Visit http://www.spam.example.co.uk/x and https://a.example.co.uk/ http://192.0.2.1/ www.bad.test https://example.com/",
    );
    for (const v of res.verdicts) {
      expect(v.symbols.map((x) => [x.name, x.score])).toEqual(
        expect.arrayContaining([
          ["URIBL_BLACK", 5],
          ["URIBL_GREY", 1],
        ]),
      );
      expect(v.symbols.filter((x) => x.name.startsWith("URIBL")).reduce((n, x) => n + x.score, 0)).toBe(6);
    }
    const uriQueries = asked.filter((q) => q.endsWith(".uri.test"));
    expect(uriQueries.sort()).toEqual([
      "A 1.2.0.192.uri.test",
      "A bad.test.uri.test",
      "A example.co.uk.uri.test",
    ]);
    await rt.close();
  });
});

describe("greylist filter", () => {
  const GREY =
    "    greylist: { enabled: true, options: { delay_s: 60, allow_networks: [], auto_allow_after: 2 } }";

  it("tempfails a new triplet with 451 4.7.1, lets the retry after the delay through with X-Greylist", async () => {
    const { rt, clock } = await setup(GREY);
    let s = rt.newSession();
    let [r] = await envelope(s, "198.51.100.7", "prvs=1234abcd=news@sender.test", ["alice@example.com"]);
    expect(r).toMatchObject({
      ok: false,
      reply: {
        code: 451,
        enhanced: "4.7.1",
        text: expect.stringMatching(/^Greylisted, please try again in 60 seconds \[ref \w+\]$/),
      },
    });
    clock.now += 30_000;
    s = rt.newSession();
    [r] = await envelope(s, "198.51.100.8", "prvs=99999999=news@sender.test", ["alice@example.com"]);
    expect(r).toMatchObject({
      ok: false,
      reply: { text: expect.stringContaining("try again in 30 seconds") },
    });
    clock.now += 31_000;
    // Another host of the same /24, another BATV tag: the same triplet.
    s = rt.newSession();
    [r] = await envelope(s, "198.51.100.9", "prvs=00000000=news@sender.test", ["alice@example.com"]);
    expect(r!.ok).toBe(true);
    const res = await data(s);
    expect(res.groups[0]!.edits).toContainEqual({
      op: "add",
      name: "X-Greylist",
      value: "delayed 61 seconds by Sluice (198.51.100.0/24)",
    });
    expect(res.verdicts[0]!.trace).toContainEqual(
      expect.objectContaining({ filter: "greylist", note: expect.stringContaining("passed after 61 s") }),
    );
    await rt.close();
  });

  it("never greylists submission or authenticated clients, a tenant with it off, or an auto-allowed network", async () => {
    const { rt, clock } = await setup(GREY);
    const ok = async (client: string, rcpt: string, opts = {}, from = "a@s.test") => {
      const [r] = await envelope(rt.newSession(), client, from, [rcpt], opts);
      return r!.ok;
    };
    expect(await ok("198.51.100.1", "x@far.test", { ingress: "submission", auth: "alice@example.com" })).toBe(
      true,
    );
    expect(
      await ok("198.51.100.1", "bob@example.com", { ingress: "milter", auth: "alice@example.com" }),
    ).toBe(true);
    expect(await ok("198.51.100.1", "x@other.example")).toBe(true);
    // An offline scan neither is greylisted nor leaves a triplet behind.
    expect(await ok("198.51.100.2", "alice@example.com", { ingress: "scan" })).toBe(true);
    expect(await ok("198.51.100.2", "alice@example.com")).toBe(false);
    // Two passes from one network, then any new triplet from it goes through.
    for (const rcpt of ["alice@example.com", "bob@example.com"])
      expect(await ok("192.0.2.200", rcpt)).toBe(false);
    clock.now += 61_000;
    for (const rcpt of ["alice@example.com", "bob@example.com"])
      expect(await ok("192.0.2.200", rcpt)).toBe(true);
    expect(await ok("192.0.2.201", "alice@example.com", {}, "new@s.test")).toBe(true);
    await rt.close();
  });

  it("keys the sender without its BATV tag", () => {
    expect(greylistSender("PRVS=0123ABCD=News@Sender.test")).toBe("news@sender.test");
    expect(greylistSender("a=b@c.test")).toBe("a=b@c.test");
  });
});

describe("ratelimit filter", () => {
  const LIMITS = `    ratelimit:
      enabled: true
      options:
        client: { recipients: 5 }
        user: { messages: 2, recipients: 100 }
        recipient: { messages: 3 }
        notify: { to: [admin@example.com], interval_s: 3600 }`;

  it("limits an authenticated user's messages per hour: 451 4.7.1 with the reference id, one admin notice", async () => {
    const { rt, notices, metrics } = await setup(LIMITS);
    const send = async () => {
      const s = rt.newSession();
      const r = await envelope(s, "192.0.2.50", "alice@example.com", ["x@far.test", "y@far.test"], {
        ingress: "submission",
        auth: "alice@example.com",
      });
      await s.reset();
      return r;
    };
    // Two messages (to two recipients each: the message counts once).
    expect((await send()).every((r) => r.ok)).toBe(true);
    expect((await send()).every((r) => r.ok)).toBe(true);
    const third = await send();
    expect(third[0]).toMatchObject({
      ok: false,
      reply: {
        code: 451,
        enhanced: "4.7.1",
        text: expect.stringMatching(
          /^Sending limit reached for alice@example\.com: 2 messages per hour, try again later \[ref \w+\]$/,
        ),
      },
    });
    await send();
    await new Promise((r) => setTimeout(r, 50));
    expect(notices.map((n) => n.to)).toEqual(["admin@example.com"]);
    expect(notices[0]!.message).toContain("Subject: Sending limit reached: alice@example.com");
    expect(notices[0]!.message).toContain("Auto-Submitted: auto-generated");
    expect((await metrics.rateLimited.get()).values).toContainEqual(
      expect.objectContaining({ labels: { limit: "user_messages" }, value: 4 }),
    );
    await rt.close();
  });

  it("a user's own limit from the directory wins over the tenant's", async () => {
    const { rt } = await setup(LIMITS);
    const one = async () =>
      (
        await envelope(rt.newSession(), "192.0.2.51", "carol@example.com", ["x@far.test"], {
          ingress: "submission",
          auth: "carol@example.com",
        })
      )[0]!;
    expect((await one()).ok).toBe(true);
    expect(await one()).toMatchObject({
      ok: false,
      reply: { text: expect.stringContaining("1 messages per hour") },
    });
    await rt.close();
  });

  it("limits recipients per client network and messages per recipient; refused attempts are given back", async () => {
    const { rt, clock } = await setup(LIMITS);
    const s = rt.newSession();
    const rcpts = Array.from({ length: 7 }, (_, i) => `u${i}@example.com`);
    const replies = await envelope(s, "198.51.100.20", "a@s.test", rcpts);
    expect(replies.map((r) => r.ok)).toEqual([true, true, true, true, true, false, false]);
    expect(replies[5]).toMatchObject({
      reply: {
        text: expect.stringContaining(
          "Too many recipients from your network 198.51.100.20/32 (limit 5 per hour)",
        ),
      },
    });
    // Messages per recipient: alice may get three an hour.
    for (let i = 0; i < 3; i++)
      expect(
        (await envelope(rt.newSession(), `198.51.100.${30 + i}`, "b@s.test", ["alice@example.com"]))[0]!.ok,
      ).toBe(true);
    expect((await envelope(rt.newSession(), "198.51.100.40", "b@s.test", ["alice@example.com"]))[0]!.ok).toBe(
      false,
    );
    // Two windows later, the counts are gone.
    clock.now += 2 * 3600_000;
    expect((await envelope(rt.newSession(), "198.51.100.40", "b@s.test", ["alice@example.com"]))[0]!.ok).toBe(
      true,
    );
    await rt.close();
  });

  it("weighs the previous window by the part of it still inside the last hour", () => {
    const start = Date.UTC(2026, 0, 1, 12);
    expect(slidingCount(3, 10, 3600, new Date(start))).toBe(13);
    expect(slidingCount(3, 10, 3600, new Date(start + 1800_000))).toBe(8);
    expect(slidingCount(3, 10, 3600, new Date(start + 3599_999))).toBeCloseTo(3, 2);
  });
});
