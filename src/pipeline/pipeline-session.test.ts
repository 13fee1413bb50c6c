import { describe, it, expect } from "vitest";
import pino from "pino";
import { Runtime } from "../runtime.ts";
import type { Filter } from "./types.ts";
import type { Session } from "./session.ts";

/** A spam-group filter that records who it ran for and scores "viagra" as spam. */
function fakeSpam(calls: string[][], behaviour: "ok" | "throw" | "hang" = "ok"): Filter {
  return {
    name: "fake_spam",
    group: "spam",
    stages: ["data"],
    priority: 50,
    enabledByDefault: true,
    parseOptions: () => ({}),
    async check(ctx) {
      calls.push(ctx.recipients.map((r) => r.address));
      if (behaviour === "throw") throw new Error("engine exploded");
      if (behaviour === "hang") await new Promise((r) => setTimeout(r, 5000));
      const body = (await ctx.tx!.spool!.buffer()).toString();
      return {
        symbols: [{ name: "FAKE_SPAM", score: body.includes("viagra") ? 12 : 0 }],
        headers: [{ op: "add", name: "X-Fake-Spam", value: "scanned" }],
      };
    },
  };
}

const CONFIG = (extra = "") => `
policy:
  thresholds: { tag: 5, quarantine: 10, reject: 30 }
  filters:
    fake_spam: { timeout_ms: 200 }
    auth: { enabled: false }
    dkim_sign: { enabled: false }
    spam-classifier: { enabled: false }
tenants:
  - id: example
    domains: [example.com]
    ${extra}
    users:
      - { address: alice@example.com, spam_filter: true }
      - { address: bob@example.com, spam_filter: false }
      - { address: carol@example.com, spam_filter: true, whitelist: [friend.org], blacklist: ["*@spammer.org"] }
      - { address: dave@example.com, spam_filter: true, quarantine: false }
`;

async function runtime(filter: Filter, extra = ""): Promise<Runtime> {
  return Runtime.create({
    configText: CONFIG(extra),
    store: "never",
    logger: pino({ level: "silent" }),
    extraFilters: [filter],
  });
}

async function send(s: Session, from: string, rcpts: string[], body: string) {
  await s.connect({ ingress: "scan", address: "192.0.2.1", localName: "mx.test" });
  await s.helo("client.test");
  expect((await s.mail(from, {})).ok).toBe(true);
  const rcptReplies = [];
  for (const r of rcpts) rcptReplies.push(await s.rcpt(r, {}));
  const w = s.beginData();
  await w.write(
    Buffer.from(
      `From: ${from}\r\nTo: x\r\nSubject: hello\r\nDate: x\r\nMessage-ID: <1@x>\r\n\r\n${body}\r\n`,
    ),
  );
  await w.end();
  return { rcptReplies, result: await s.data() };
}

describe("one scan, per-recipient outcomes", () => {
  it("runs a spam filter once for the ON recipients only; OFF recipients see no spam symbol or header", async () => {
    const calls: string[][] = [];
    const rt = await runtime(fakeSpam(calls));
    const { result } = await send(
      rt.newSession(),
      "s@x.org",
      ["alice@example.com", "bob@example.com"],
      "buy viagra",
    );
    expect(calls).toEqual([["alice@example.com"]]);
    const alice = result.verdicts.find((v) => v.address === "alice@example.com")!;
    const bob = result.verdicts.find((v) => v.address === "bob@example.com")!;
    expect(alice.action).toBe("quarantine");
    expect(alice.symbols.map((s) => s.name)).toContain("FAKE_SPAM");
    expect(bob.action).toBe("accept");
    expect(bob.symbols.map((s) => s.name)).not.toContain("FAKE_SPAM");
    expect(bob.trace).toContainEqual({
      filter: "fake_spam",
      stage: "data",
      ran: false,
      reason: "spam filter OFF for this user",
    });
    expect(result.reply).toBeNull();
    const bobGroup = result.groups.find((g) => g.recipients.includes("bob@example.com"))!;
    expect(bobGroup.disposition).toBe("deliver");
    expect(bobGroup.edits).toEqual([]);
    expect(result.groups.find((g) => g.recipients.includes("alice@example.com"))!.disposition).toBe(
      "quarantine",
    );
  });

  it("tags instead of quarantining for a user whose preference is no quarantine", async () => {
    const rt = await runtime(fakeSpam([]));
    const { result } = await send(rt.newSession(), "s@x.org", ["dave@example.com"], "buy viagra");
    expect(result.verdicts[0]!.action).toBe("accept");
    expect(result.groups[0]!.edits).toContainEqual({ op: "add", name: "X-Spam-Flag", value: "YES" });
  });

  it("does not run a spam filter at all when no recipient has it ON", async () => {
    const calls: string[][] = [];
    const rt = await runtime(fakeSpam(calls));
    const { result } = await send(rt.newSession(), "s@x.org", ["bob@example.com"], "buy viagra");
    expect(calls).toEqual([]);
    expect(result.verdicts[0]!.action).toBe("accept");
  });

  it("turns a throwing filter into a symbol plus on_error (tempfail by default) with the reference id", async () => {
    const rt = await runtime(fakeSpam([], "throw"));
    const s = rt.newSession();
    const { result } = await send(s, "s@x.org", ["alice@example.com"], "x");
    expect(result.verdicts[0]!.symbols.map((x) => x.name)).toContain("FAKE_SPAM_ERROR");
    expect(result.reply?.code).toBe(451);
    expect(result.reply?.text).toMatch(/\[ref [0-9A-Z]{16}\]/);
  });

  it("turns a filter timeout into on_error", async () => {
    const rt = await runtime(fakeSpam([], "hang"));
    const { result } = await send(rt.newSession(), "s@x.org", ["alice@example.com"], "x");
    expect(result.reply?.code).toBe(451);
    expect(result.verdicts[0]!.trace.some((t) => "error" in t && /timed out/.test(String(t.error)))).toBe(
      true,
    );
  });

  it("skips spam filters for a whitelisted sender and says why", async () => {
    const calls: string[][] = [];
    const rt = await runtime(fakeSpam(calls));
    const { result } = await send(rt.newSession(), "pal@mail.friend.org", ["carol@example.com"], "viagra");
    expect(calls).toEqual([]);
    expect(result.verdicts[0]!.action).toBe("accept");
    expect(result.verdicts[0]!.trace).toContainEqual(
      expect.objectContaining({ filter: "fake_spam", ran: false, reason: "sender whitelisted (friend.org)" }),
    );
  });

  it("refuses a blacklisted sender for that recipient only, at RCPT", async () => {
    const rt = await runtime(fakeSpam([]));
    const { rcptReplies, result } = await send(
      rt.newSession(),
      "x@spammer.org",
      ["carol@example.com", "bob@example.com"],
      "hi",
    );
    expect(rcptReplies[0]).toMatchObject({ ok: false, reply: { code: 550, enhanced: "5.7.1" } });
    expect(rcptReplies[1]).toEqual({ ok: true });
    expect(result.verdicts.map((v) => v.address)).toEqual(["bob@example.com"]);
  });

  it("tags by score with headers and a subject prefix", async () => {
    const rt = await Runtime.create({
      configText: CONFIG().replace("tag: 5, quarantine: 10", "tag: 5, quarantine: 20"),
      store: "never",
      logger: pino({ level: "silent" }),
      extraFilters: [fakeSpam([])],
    });
    const { result } = await send(rt.newSession(), "s@x.org", ["alice@example.com"], "viagra");
    expect(result.groups[0]!.edits).toEqual([
      { op: "add", name: "X-Fake-Spam", value: "scanned" },
      { op: "add", name: "X-Spam-Flag", value: "YES" },
      { op: "add", name: "X-Spam-Score", value: "12.00" },
      { op: "set", name: "Subject", value: "[SPAM] hello" },
    ]);
  });

  it("defer mode: a recipient whose policy differs from the first is deferred with 452 4.5.3", async () => {
    const rt = await runtime(fakeSpam([]), "split_mixed_policies: defer");
    const { rcptReplies, result } = await send(
      rt.newSession(),
      "s@x.org",
      ["alice@example.com", "bob@example.com", "carol@example.com"],
      "x",
    );
    expect(rcptReplies[0]!.ok).toBe(true);
    expect(rcptReplies[1]).toMatchObject({ ok: false, reply: { code: 452, enhanced: "4.5.3" } });
    expect(rcptReplies[2]!.ok).toBe(true);
    expect(result.verdicts.map((v) => v.address)).toEqual(["alice@example.com", "carol@example.com"]);
  });

  it("quarantines the refused copy when a reject is mixed with accepted recipients", async () => {
    const rt = await Runtime.create({
      configText: CONFIG().replace("reject: 30", "reject: 11"),
      store: "never",
      logger: pino({ level: "silent" }),
      extraFilters: [fakeSpam([])],
    });
    const { result } = await send(
      rt.newSession(),
      "s@x.org",
      ["alice@example.com", "bob@example.com"],
      "viagra",
    );
    expect(result.verdicts.map((v) => v.action)).toEqual(["reject", "accept"]);
    expect(result.reply).toBeNull();
    const g = result.groups.find((x) => x.recipients.includes("alice@example.com"))!;
    expect(g.disposition).toBe("quarantine");
    expect(g.reason).toMatch(/mixed outcome/);
  });

  it("rejects the whole message when every recipient rejects, carrying the reference id", async () => {
    const rt = await Runtime.create({
      configText: CONFIG().replace("reject: 30", "reject: 11"),
      store: "never",
      logger: pino({ level: "silent" }),
      extraFilters: [fakeSpam([])],
    });
    const s = rt.newSession();
    const { result } = await send(s, "s@x.org", ["alice@example.com"], "viagra");
    expect(result.reply).toMatchObject({ code: 550, enhanced: "5.7.1" });
    expect(result.reply!.text).toContain("[ref ");
  });

  it("refuses an announced SIZE over the policy limit at MAIL", async () => {
    const rt = await Runtime.create({
      configText: "policy:\n  filters:\n    size: { options: { max_bytes: 1000 } }\n",
      store: "never",
      logger: pino({ level: "silent" }),
    });
    const s = rt.newSession();
    await s.connect({ ingress: "scan", address: "192.0.2.1", localName: "mx" });
    expect(await s.mail("a@x.org", { SIZE: "5000" })).toMatchObject({
      ok: false,
      reply: { code: 552, enhanced: "5.3.4" },
    });
  });
});
