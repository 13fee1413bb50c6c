// Crash matrix: a real `sluice serve` is killed with SIGKILL at each step of receive → scan →
// store → forward → reply (SLUICE_FAULT, honoured with NODE_ENV=test only), then started again;
// the client retries what was not answered 250, as an MTA does. Proven for every point: a 250
// is delivered and stored exactly once; nothing unanswered leaves a stored copy behind. Two
// points sit after the next hop accepted and before the client heard 250 — SMTP's own window
// (RFC 1047): there the retry duplicates, and the test pins that it is a duplicate, never a loss.
// Then quarantine release (`sluice quarantine release` killed between its store steps) and
// resume at the next start.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { NODE, SLUICE } from "../helpers/cli.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { SmtpSink } from "../helpers/sink.ts";
import { freePort } from "../helpers/ports.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";

interface Node {
  port: number;
  exited: Promise<number | null>;
  log: () => string;
  kill(): void;
}

async function startNode(config: string, cwd: string, fault?: string): Promise<Node> {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: "test" };
  if (fault) env.SLUICE_FAULT = fault;
  else delete env.SLUICE_FAULT;
  const child = spawn(NODE, [SLUICE, "serve", "-c", config], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once("exit", (code, sig) => r(sig ? 137 : code)));
  const deadline = Date.now() + 20_000;
  let port = 0;
  while (!port) {
    const m = /"listener":"inbound","address":"127\.0\.0\.1:(\d+)"/.exec(out);
    if (m && out.includes('"msg":"ready"')) port = Number(m[1]);
    else if (child.exitCode !== null || Date.now() > deadline) throw new Error(`node did not start:\n${out}`);
    else await new Promise((r) => setTimeout(r, 50));
  }
  return { port, exited, log: () => out, kill: () => child.kill("SIGKILL") };
}

/** A `sluice` command with extra environment; its combined output. */
function cli(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(NODE, [SLUICE, ...args], { env: { ...process.env, NODE_ENV: "test", ...env } });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("close", () => resolve(out));
  });
}

/** One SMTP transaction; the reply to the final dot, or "(closed)" if the node died first. */
async function send(
  port: number,
  subject: string,
  rcpts = ["alice@example.com", "bob@example.com"],
): Promise<string> {
  const c = await RawClient.open(port);
  try {
    await c.reply();
    await c.cmd("EHLO client.test");
    await c.cmd("MAIL FROM:<sender@remote.test>");
    for (const r of rcpts) await c.cmd(`RCPT TO:<${r}>`);
    if (!(await c.cmd("DATA")).startsWith("354")) return "(no 354)";
    c.send(
      `From: <sender@remote.test>\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@test>\r\n\r\nhello\r\n.\r\n`,
    );
    return await c.reply(15_000);
  } finally {
    c.close();
  }
}

describe("crash matrix: kill -9 at every step of the proxy and of a release", () => {
  const sink = new SmtpSink();
  const dir = mkdtempSync(join(tmpdir(), "sluice-crash-"));
  let config = "";
  const quarantined = async (subject: string) => {
    const store = new SqliteStore(join(dir, "store.db"));
    try {
      return (await store.listQuarantine({})).filter((q) => q.subject === subject);
    } finally {
      await store.close();
    }
  };
  const delivered = (subject: string, released = false) =>
    sink.messages.filter(
      (m) => m.data.includes(`Subject: ${subject}\r\n`) && m.data.includes("X-Sluice-Released") === released,
    ).length;

  beforeAll(async () => {
    await sink.start();
    const sieve = join(dir, "q.sieve");
    // alice's copy is quarantined, bob's delivered: every message has both kinds of outcome.
    writeFileSync(
      sieve,
      'require ["envelope", "vnd.sluice.quarantine", "vnd.sluice.hold"];\n' +
        'if envelope :is "to" "alice@example.com" { quarantine :reason "crash test"; }\n' +
        'if envelope :is "to" "carol@example.com" { hold :minutes 60 :reason "crash test"; }\n',
    );
    config = join(dir, "node.yaml");
    writeFileSync(
      config,
      `store: sqlite:${dir}/store.db
log: { level: info }
web: { listen: "127.0.0.1:${await freePort()}" }
spool: { dir: ${dir}/spool }
delivery: smtp://127.0.0.1:${sink.port}
smtp:
  listeners: { inbound: { listen: "127.0.0.1:0" }, submission: { enabled: false }, submissions: { enabled: false } }
milter: { enabled: false }
policy:
  filters:
    auth: { enabled: false }
    spam-classifier: { enabled: false }
    sieve: { options: { inbound: [${sieve}] } }
tenants:
  - id: example
    domains: [example.com]
    users: [{ address: alice@example.com }, { address: bob@example.com }, { address: carol@example.com }]
`,
    );
  });
  afterAll(async () => {
    await sink.stop();
  });

  // point → copies the retry may leave: [deliveries to bob, quarantine entries for alice]
  const points: [string, [number, number]][] = [
    ["smtp.data.received", [1, 1]],
    ["smtp.data.scanned", [1, 1]],
    ["store.putQuarantine.after", [1, 1]], // the copy is stored, the client has no 250
    ["smtp.committed", [2, 1]], // bob's copy is at the next hop (RFC 1047 window)
    ["smtp.reply.before", [2, 2]], // the journal is cleared: a microsecond window
    ["smtp.reply.after", [1, 1]], // the client has its 250: no retry
  ];
  for (const [point, [bob, alice]] of points) {
    it(`killed at ${point}: answered mail is there once, unanswered mail is not half there`, async () => {
      const subject = `crash-${point.replace(/\W/g, "-")}`;
      const victim = await startNode(config, dir, point);
      const first = await send(victim.port, subject);
      // The point kills the node itself (smtp.reply.after just after the client read its 250).
      await Promise.race([victim.exited, new Promise((r) => setTimeout(r, 5000))]);
      victim.kill();
      expect(await victim.exited).toBe(137);
      expect(victim.log()).toContain(`fault point ${point}: SIGKILL`);
      const node = await startNode(config, dir);
      try {
        if (!first.startsWith("250")) expect(await send(node.port, subject)).toMatch(/^250 /);
        else expect(point).toBe("smtp.reply.after");
        await sink.waitFor(1);
        await new Promise((r) => setTimeout(r, 300));
        expect(delivered(subject)).toBe(bob);
        expect((await quarantined(subject)).length).toBe(alice);
      } finally {
        node.kill();
        await node.exited;
      }
    }, 60_000);
  }

  it("hold release (send now) killed after its claim: resumed at the next start, delivered once", async () => {
    const subject = "hold-claimRelease-after";
    const node = await startNode(config, dir);
    expect(await send(node.port, subject, ["carol@example.com"])).toMatch(/^250 /);
    node.kill();
    await node.exited;
    const store = new SqliteStore(join(dir, "store.db"));
    const held = (await store.listHolds({ state: "held" })).find((h) => h.reason === "crash test");
    await store.close();
    expect(held).toBeDefined();
    const killed = await cli(["hold", "release", held!.id, "-c", config], {
      SLUICE_FAULT: "store.claimRelease.after",
    });
    expect(killed).toContain("fault point store.claimRelease.after: SIGKILL");
    const again = await startNode(config, dir);
    try {
      const until = Date.now() + 10_000;
      // A held copy goes out as it came in (no X-Sluice-Released): count every copy.
      while (delivered(subject) === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 300));
      expect(delivered(subject)).toBe(1);
    } finally {
      again.kill();
      await again.exited;
    }
  }, 60_000);

  const releasePoints = [
    "store.claimRelease.after",
    "store.recordReleaseDelivery.before",
    "store.finishRelease.before",
  ];
  for (const point of releasePoints) {
    it(`release killed at ${point}: resumed at the next start, delivered at least once, the entry released`, async () => {
      const subject = `release-${point.replace(/\W/g, "-")}`;
      const node = await startNode(config, dir);
      expect(await send(node.port, subject)).toMatch(/^250 /);
      node.kill();
      await node.exited;
      const [entry] = await quarantined(subject);
      const killed = await cli(["quarantine", "release", entry!.id, "-c", config], { SLUICE_FAULT: point });
      expect(killed).toContain(`fault point ${point}: SIGKILL`);
      const again = await startNode(config, dir); // resumes interrupted releases first
      try {
        const until = Date.now() + 10_000;
        while (delivered(subject, true) === 0 && Date.now() < until)
          await new Promise((r) => setTimeout(r, 50));
        await new Promise((r) => setTimeout(r, 300));
        const n = delivered(subject, true);
        // Before the delivery is recorded a resumed release cannot know it went out: at most twice.
        expect(n).toBeGreaterThanOrEqual(1);
        expect(n).toBeLessThanOrEqual(point === "store.recordReleaseDelivery.before" ? 2 : 1);
        const [after] = await quarantined(subject);
        expect(after!.recipients.find((r) => r.address === "alice@example.com")?.state).toBe("released");
      } finally {
        again.kill();
        await again.exited;
      }
    }, 60_000);
  }
});
