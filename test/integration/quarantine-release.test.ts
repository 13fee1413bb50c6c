// Quarantine release against a real next hop (Postfix's smtp-sink): delivered once with the
// original envelope (released recipients only) and X-Sluice-Released; a process SIGKILLed
// between the release steps is resumed on restart with exactly one delivery; expiry; and end to
// end: quarantined by the SMTP proxy, released once.
import { describe, it, expect, beforeAll, afterAll, beforeEach } from "vitest";
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import pino from "pino";
import { Runtime } from "../../src/runtime.ts";
import { emptyEnvelope } from "../../src/message/envelope.ts";
import { createQuarantineOps, resumeReleases } from "../../src/quarantine/index.ts";
import { routesFor } from "../../src/quarantine/release.ts";
import { runExpiry } from "../../src/quarantine/expiry.ts";
import { haveTool } from "../helpers/require-tool.ts";
import { startSink, SMTP_SINK, type Sink } from "../helpers/smtp-sink.ts";
import { startProxy } from "../helpers/proxy.ts";
import type { Filter } from "../../src/pipeline/types.ts";

const enabled = haveTool(SMTP_SINK, "postfix");
const ROOT = join(import.meta.dirname, "..", "..");

function configText(dir: string, port: number): string {
  return `
node: { name: test, link_secret: "0123456789abcdef0123456789abcdef" }
store: sqlite:${dir}/store.db
delivery: smtp://127.0.0.1:${port}
log: { level: silent }
smtp: { hostname: mx.test, limits: { next_hop_timeout_s: 5 } }
tenants:
  - id: example
    domains: [example.com]
    verify_recipients: false
    quarantine: { retention_days: 10, purge_after_days: 20 }
`;
}

async function putEntry(rt: Runtime, id: string, rcpts: string[]) {
  const env = emptyEnvelope("inbound");
  env.mailFrom = { address: "spammer@x.org", params: {} };
  env.recipients = [...rcpts, "other@example.com"].map((address) => ({ address, params: {} }));
  await rt.store!.putQuarantine({
    id,
    tenant: "example",
    envelope: env,
    score: 12,
    symbols: [{ name: "TEST_SPAM", score: 12 }],
    subject: `cheap ${id}`,
    message: Buffer.from(`From: spammer@x.org\r\nSubject: cheap ${id}\r\n\r\nbody of ${id}\r\n`),
    recipients: rcpts.map((address) => ({ address, reason: "spam" })),
  });
}

const byId = (sink: Sink, id: string) => sink.messages().filter((m) => m.includes(`body of ${id}`));

describe.skipIf(!enabled)("quarantine release (smtp-sink)", () => {
  let sink: Sink;
  let dir: string;
  let rt: Runtime;
  beforeAll(async () => {
    sink = await startSink();
  });
  afterAll(async () => {
    await sink.stop();
  });
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "sluice-qrel-"));
    rt = await Runtime.create({ configText: configText(dir, sink.port), logger: pino({ level: "silent" }) });
    return async () => {
      await rt.close();
    };
  });

  it("delivers once, to the released recipients only, with the original sender and a loop header", async () => {
    await putEntry(rt, "Q-A", ["alice@example.com", "carol@example.com"]);
    const ops = createQuarantineOps(rt);
    const res = await ops.release("Q-A", ["alice@example.com"], { actor: "admin" });
    expect(res).toEqual({ released: ["alice@example.com"], failed: [] });
    const got = byId(sink, "Q-A");
    expect(got.length).toBe(1);
    expect(got[0]).toMatch(/X-Mail-Args: <?spammer@x\.org>?/i);
    expect(got[0]).toMatch(/X-Rcpt-Args: <?alice@example\.com>?/i);
    expect(got[0]).not.toMatch(/carol@example\.com|other@example\.com/);
    expect(got[0]).toMatch(/X-Sluice-Released: Q-A; key=release:/);
    // Again: alice is released already, nothing more leaves.
    const again = await ops.release("Q-A", ["alice@example.com"], { actor: "admin" });
    expect(again.released).toEqual([]);
    expect(again.failed[0]?.reason).toMatch(/not quarantined \(released\)/);
    expect(byId(sink, "Q-A").length).toBe(1);
    const q = await rt.store!.getQuarantine("Q-A");
    expect(q?.recipients.map((r) => `${r.address}:${r.state}`)).toEqual([
      "alice@example.com:released",
      "carol@example.com:quarantined",
    ]);
    // The rest, then delete semantics on what is left (nothing).
    expect((await ops.release("Q-A", "all", { actor: "admin" })).released).toEqual(["carol@example.com"]);
    expect(byId(sink, "Q-A").length).toBe(2);
  });

  it("an empty recipient list is an error, not a successful release of nothing", async () => {
    await putEntry(rt, "Q-E", ["alice@example.com"]);
    const ops = createQuarantineOps(rt);
    await expect(ops.release("Q-E", [], { actor: "admin" })).rejects.toThrow(/no recipients given/);
    expect((await rt.store!.getQuarantine("Q-E"))?.recipients[0]?.state).toBe("quarantined");
    expect(byId(sink, "Q-E")).toEqual([]);
  });

  it("two concurrent releases of the same entry send one copy", async () => {
    await putEntry(rt, "Q-C", ["alice@example.com"]);
    const ops = createQuarantineOps(rt);
    const [a, b] = await Promise.all([
      ops.release("Q-C", "all", { actor: "one" }),
      ops.release("Q-C", "all", { actor: "two" }),
    ]);
    expect([...a.released, ...b.released]).toEqual(["alice@example.com"]);
    expect(byId(sink, "Q-C").length).toBe(1);
  });

  it("keeps a recipient quarantined when the next hop is down", async () => {
    const down = await Runtime.create({
      configText: configText(dir, 1).replace(/store\.db/, "store2.db"),
      logger: pino({ level: "silent" }),
    });
    try {
      await putEntry(down, "Q-D", ["alice@example.com"]);
      const res = await createQuarantineOps(down).release("Q-D", "all", { actor: "admin" });
      expect(res.released).toEqual([]);
      expect(res.failed[0]?.reason).toMatch(/deferred: 451/);
      expect((await down.store!.getQuarantine("Q-D"))?.recipients[0]?.state).toBe("quarantined");
      expect(await down.store!.openReleases()).toEqual([]);
    } finally {
      await down.close();
    }
  });

  it("deletes per recipient and expires after the tenant's retention", async () => {
    await putEntry(rt, "Q-E", ["alice@example.com", "carol@example.com"]);
    const ops = createQuarantineOps(rt);
    await ops.remove("Q-E", ["carol@example.com"], { actor: "admin" });
    const now = Date.now();
    expect(await runExpiry(rt, new Date(now + 9 * 86_400_000))).toEqual({ expired: 0, purged: 0 });
    expect(await runExpiry(rt, new Date(now + 11 * 86_400_000))).toEqual({ expired: 1, purged: 0 });
    const q = await rt.store!.getQuarantine("Q-E");
    expect(q?.recipients.map((r) => r.state)).toEqual(["expired", "deleted"]);
    expect((await ops.release("Q-E", "all", { actor: "admin" })).released).toEqual([]);
    expect(await runExpiry(rt, new Date(now + 21 * 86_400_000))).toEqual({ expired: 0, purged: 1 });
    expect(await rt.store!.getQuarantine("Q-E")).toBeNull();
  });

  // The child claims (and, for "after-deliver", delivers and records) then kills itself with
  // SIGKILL: no finally blocks, no store close — as close to a power cut as a test gets.
  for (const stop of ["after-claim", "after-deliver"] as const) {
    it(`a release SIGKILLed ${stop} is resumed on restart with exactly one delivery`, async () => {
      const id = `Q-K-${stop}`;
      await putEntry(rt, id, ["alice@example.com"]);
      await rt.close();
      const script = `
        import { Runtime } from "./src/runtime.ts";
        import { claimStep, deliverStep, routesFor } from "./src/quarantine/release.ts";
        import pino from "pino";
        const rt = await Runtime.create({ configText: process.env.CFG, logger: pino({ level: "silent" }) });
        const claim = await claimStep(rt, { key: "crash-key", kind: "quarantine", itemId: process.env.QID, recipients: "all", actor: "t" });
        if (process.env.STOP === "after-deliver") await deliverStep(rt, routesFor(rt), claim);
        process.kill(process.pid, "SIGKILL");
      `;
      const child = spawn(join(ROOT, "node_modules/.bin/node"), ["--input-type=module", "-e", script], {
        cwd: ROOT,
        env: { ...process.env, CFG: configText(dir, sink.port), QID: id, STOP: stop },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let err = "";
      child.stderr.on("data", (d) => (err += d));
      const signal = await new Promise<NodeJS.Signals | null>((res) => child.on("exit", (_c, s) => res(s)));
      expect(signal, err).toBe("SIGKILL");
      expect(byId(sink, id).length).toBe(stop === "after-deliver" ? 1 : 0);

      rt = await Runtime.create({
        configText: configText(dir, sink.port),
        logger: pino({ level: "silent" }),
      });
      const open = await rt.store!.openReleases();
      expect(open.map((c) => [c.key, c.state])).toEqual([
        ["crash-key", stop === "after-deliver" ? "delivered" : "claimed"],
      ]);
      // Another release while the claim is open finds nothing free to send.
      expect((await createQuarantineOps(rt).release(id, "all", { actor: "x" })).released).toEqual([]);
      const resumed = await resumeReleases(rt, routesFor(rt));
      expect(resumed.map((c) => [c.state, c.accepted])).toEqual([["done", ["alice@example.com"]]]);
      expect(await resumeReleases(rt, routesFor(rt))).toEqual([]);
      expect(byId(sink, id).length).toBe(1);
      expect((await rt.store!.getQuarantine(id))?.recipients[0]?.state).toBe("released");
    });
  }
});

const haveSwaks = enabled && haveTool("/usr/bin/swaks", "swaks");

/** Scores "viagra" as spam so the inbound proxy quarantines it. */
const fakeSpam: Filter = {
  name: "test_spam",
  group: "spam",
  stages: ["data"],
  priority: 50,
  enabledByDefault: true,
  parseOptions: () => ({}),
  async check(ctx) {
    const body = (await ctx.tx!.spool!.buffer()).toString();
    return { symbols: [{ name: "TEST_SPAM", score: body.includes("viagra") ? 15 : 0 }] };
  },
};

describe.skipIf(!haveSwaks)("quarantine end to end (SMTP proxy → store → release → smtp-sink)", () => {
  it("quarantines at the proxy, then a release delivers the stored copy once", async () => {
    const sink = await startSink();
    const proxy = await startProxy(
      (dir) => `
store: sqlite:${dir}/store.db
delivery: smtp://127.0.0.1:${sink.port}
smtp:
  hostname: mx.test
  listeners:
    inbound: { listen: "127.0.0.1:0" }
    submission: { listen: "127.0.0.1:0" }
    submissions: { listen: "127.0.0.1:0" }
policy: { thresholds: { tag: 5, quarantine: 10, reject: 50 } }
tenants:
  - id: example
    domains: [example.com]
    users: [{ address: alice@example.com }, { address: bob@example.com }]
`,
      [fakeSpam],
    );
    try {
      const { stdout } = await promisify(execFile)("swaks", [
        "--hide-informational",
        ...["-s", "127.0.0.1", "-p", String(proxy.port("inbound"))],
        ...["-f", "x@remote.org", "-t", "alice@example.com,bob@example.com"],
        ...["--body", "cheap viagra e2e"],
      ]);
      const ref = /250 2\.0\.0 Ok: queued as (\S+)/.exec(stdout)?.[1];
      expect(ref, stdout).toBeDefined();
      const spam = () => sink.messages().filter((m) => m.includes("cheap viagra e2e"));
      expect(spam()).toEqual([]);
      const q = await proxy.runtime.store!.getQuarantine(ref!);
      expect(q?.recipients.map((r) => `${r.address}:${r.state}`)).toEqual([
        "alice@example.com:quarantined",
        "bob@example.com:quarantined",
      ]);
      const ops = createQuarantineOps(proxy.runtime);
      expect((await ops.release(ref!, ["bob@example.com"], { actor: "admin" })).released).toEqual([
        "bob@example.com",
      ]);
      expect(spam().length).toBe(1);
      expect(spam()[0]).toMatch(new RegExp(`X-Sluice-Released: ${ref}; key=`));
      expect(spam()[0]).toMatch(/Received: from \S+ \(unknown \[127\.0\.0\.1\]\)/);
      expect(spam()[0]).toMatch(/X-Rcpt-Args: <?bob@example\.com/i);
      expect(spam()[0]).not.toMatch(/X-Rcpt-Args: <?alice/i);
      expect((await ops.release(ref!, ["bob@example.com"], { actor: "admin" })).released).toEqual([]);
      expect(spam().length).toBe(1);
    } finally {
      await proxy.close();
      await sink.stop();
    }
  });
});
