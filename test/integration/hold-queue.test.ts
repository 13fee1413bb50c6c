// The hold queue with a real next hop (smtp-sink): the sender's notice with signed links, the
// delay elapsing, cancel and send-now (links, single use), approval mode with its maximum
// wait, supervisor Bcc, a next hop that is down, and restarts: a new runtime on the same store
// releases on time and never twice. End to end: AUTH submission → hold_options → store → release.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import pino from "pino";
import { simpleParser } from "mailparser";
import { Runtime } from "../../src/runtime.ts";
import { emptyEnvelope } from "../../src/message/envelope.ts";
import { createQuarantineOps, redeemLink } from "../../src/quarantine/index.ts";
import { holdTick } from "../../src/quarantine/hold-scheduler.ts";
import { routesFor } from "../../src/quarantine/release.ts";
import { hashPassword } from "../../src/policy/password.ts";
import { haveTool } from "../helpers/require-tool.ts";
import { startSink, SMTP_SINK, type Sink } from "../helpers/smtp-sink.ts";
import { startProxy } from "../helpers/proxy.ts";

const enabled = haveTool(SMTP_SINK, "postfix");
const SECRET = "0123456789abcdef0123456789abcdef";
const MIN = 60_000;

const tenants = `
tenants:
  - id: example
    domains: [example.com]
    hold:
      link_base: "https://console.example.com/hold"
      supervisor_bcc: [boss@example.com]
    users:
      - { address: alice@example.com }
  - id: strict
    domains: [strict.example]
    language: ja
    hold:
      approval: { approvers: [chief@strict.example], max_wait_minutes: 60 }
`;

function configText(dir: string, port: number): string {
  return `
node: { link_secret: "${SECRET}" }
store: sqlite:${dir}/store.db
delivery: smtp://127.0.0.1:${port}
log: { level: silent }
smtp: { hostname: mx.test, limits: { next_hop_timeout_s: 5 } }
${tenants}`;
}

let seq = 0;
async function putHold(
  rt: Runtime,
  tenant: string,
  from: string,
  to: string[],
  minutes = 5,
): Promise<string> {
  const id = `H${++seq}-${Date.now().toString(36)}`;
  const env = emptyEnvelope("submission");
  env.auth = from;
  env.mailFrom = { address: from, params: {} };
  env.recipients = to.map((address) => ({ address, params: {} }));
  await rt.store!.putHold({
    id,
    tenant,
    envelope: env,
    reason: "external recipients",
    releaseAt: new Date(Date.now() + minutes * MIN),
    message: Buffer.from(
      `From: ${from}\r\nTo: ${to.join(", ")}\r\nSubject: report ${id}\r\n\r\nbody of ${id}\r\n`,
    ),
  });
  return id;
}

describe.skipIf(!enabled)("hold queue (smtp-sink)", () => {
  let sink: Sink;
  let dir: string;
  let rt: Runtime;
  const copies = (id: string) => sink.messages().filter((m) => m.includes(`body of ${id}`));
  const notices = async (id: string) => {
    const out = [];
    for (const m of sink.messages()) {
      const p = await simpleParser(Buffer.from(m));
      if (p.text?.includes(id) && p.headers.get("auto-submitted")) out.push({ raw: m, parsed: p });
    }
    return out;
  };
  const tick = (minutesFromNow: number) =>
    holdTick(rt, routesFor(rt), new Date(Date.now() + minutesFromNow * MIN));

  beforeAll(async () => {
    sink = await startSink();
    dir = mkdtempSync(join(tmpdir(), "sluice-hold-"));
    rt = await Runtime.create({ configText: configText(dir, sink.port), logger: pino({ level: "silent" }) });
  });
  afterAll(async () => {
    await rt?.close();
    await sink.stop();
  });

  it("notifies the sender once, then releases when the delay elapses, with the supervisor in Bcc", async () => {
    const id = await putHold(rt, "example", "alice@example.com", ["friend@elsewhere.org"]);
    const first = await tick(0);
    expect(first.noticed).toContain(id);
    expect(first.released).not.toContain(id);
    expect(copies(id)).toEqual([]);
    const [notice, ...more] = await notices(id);
    expect(more).toEqual([]);
    expect(notice?.raw).toMatch(/X-Mail-Args: <>/i);
    expect(notice?.raw).toMatch(/X-Rcpt-Args: <?alice@example\.com/i);
    expect(notice?.parsed.subject).toBe(`Your message is on hold: report ${id}`);
    expect(notice?.parsed.text).toMatch(/Send now: https:\/\/console\.example\.com\/hold\?t=\S+/);
    expect((await tick(1)).noticed).not.toContain(id);

    const due = await tick(6);
    expect(due.released).toContain(id);
    const sent = copies(id);
    expect(sent.length).toBe(1);
    expect(sent[0]).toMatch(/X-Mail-Args: <?alice@example\.com/i);
    const rcpts = [...sent[0]!.matchAll(/X-Rcpt-Args: <?([^>\s]+)/gi)].map((m) => m[1]);
    expect(rcpts.sort()).toEqual(["boss@example.com", "friend@elsewhere.org"]);
    expect((await rt.store!.getHold(id))?.state).toBe("released");
    expect((await tick(10)).released).not.toContain(id);
    expect(copies(id).length).toBe(1);
  });

  it("cancel and send-now links work once, without a login", async () => {
    const a = await putHold(rt, "example", "alice@example.com", ["x@elsewhere.org"]);
    const b = await putHold(rt, "example", "alice@example.com", ["y@elsewhere.org"]);
    await tick(0);
    const token = async (id: string, label: string) =>
      new RegExp(`${label}: \\S+\\?t=(\\S+)`).exec((await notices(id))[0]!.parsed.text!)![1]!;
    const cancelA = await token(a, "Cancel");
    const sendB = await token(b, "Send now");
    // A token for one hold does not act on another.
    expect(await redeemLink(rt, cancelA.slice(0, -3) + "AAA")).toBeNull();
    expect(await redeemLink(rt, cancelA)).toEqual({ kind: "cancel", status: "done", holdId: a });
    expect(await redeemLink(rt, cancelA)).toMatchObject({ status: "used" });
    expect(await redeemLink(rt, sendB)).toEqual({ kind: "send", status: "done", holdId: b });
    expect(copies(b).length).toBe(1);
    expect(await redeemLink(rt, sendB)).toMatchObject({ status: "used" });
    await tick(30);
    expect(copies(a)).toEqual([]);
    expect(copies(b).length).toBe(1);
    expect((await rt.store!.getHold(a))?.state).toBe("cancelled");
    // Operations on entries no longer held are refused.
    const ops = createQuarantineOps(rt);
    await expect(ops.releaseHold(a, { actor: "admin" })).rejects.toThrow(/already cancelled/);
    await expect(ops.cancelHold(b, { actor: "admin" })).rejects.toThrow(/already released/);
  });

  it("approval mode: held until a named approver approves; cancelled after the maximum wait", async () => {
    const ops = createQuarantineOps(rt);
    const ok = await putHold(rt, "strict", "dev@strict.example", ["client@elsewhere.org"], 1);
    const late = await putHold(rt, "strict", "dev@strict.example", ["client2@elsewhere.org"], 1);
    await tick(0);
    const h = await rt.store!.getHold(ok);
    expect(h?.approver).toBe("chief@strict.example");
    expect(h!.releaseAt.getTime() - h!.createdAt.getTime()).toBe(60 * MIN);
    const all = await notices(ok);
    expect(all.length).toBe(2);
    const notice = all.find((n) => /X-Rcpt-Args: <?dev@strict\.example/i.test(n.raw));
    const toChief = all.find((n) => /X-Rcpt-Args: <?chief@strict\.example/i.test(n.raw));
    expect(notice?.parsed.subject).toBe(`送信を保留しています: report ${ok}`);
    expect(notice?.parsed.text).toContain("今すぐ送信: (needs approval)");
    expect(toChief?.raw).toMatch(/X-Rcpt-Args: <?chief@strict\.example/i);
    expect(toChief?.parsed.subject).toBe(`送信の承認依頼: report ${ok}`);
    expect(toChief?.parsed.text).toContain(`sluice hold release --approve --actor <あなた> ${ok}`);
    // The 1-minute delay passing does not send it; neither can the sender.
    const early = await tick(5);
    expect(early.released).not.toContain(ok);
    expect(early.released).not.toContain(late);
    await expect(ops.releaseHold(ok, { actor: "dev@strict.example" })).rejects.toThrow(/waits for approval/);
    await expect(ops.approveHold(ok, { actor: "dev@strict.example" })).rejects.toThrow(/may not approve/);
    await ops.approveHold(ok, { actor: "chief@strict.example" });
    expect(copies(ok).length).toBe(1);
    expect((await rt.store!.getHold(ok))?.approvedBy).toBe("chief@strict.example");
    const timeout = await tick(61);
    expect(timeout.cancelled).toContain(late);
    expect(copies(late)).toEqual([]);
    expect((await rt.store!.getHold(late))?.state).toBe("cancelled");
  });

  it("a next hop that is down keeps the entry held and retries later", async () => {
    const down = await Runtime.create({
      configText: configText(dir, 1).replace("store.db", "down.db"),
      logger: pino({ level: "silent" }),
    });
    try {
      const id = await putHold(down, "example", "alice@example.com", ["z@elsewhere.org"]);
      const at = new Date(Date.now() + 6 * MIN);
      expect((await holdTick(down, routesFor(down), at)).released).toEqual([]);
      const h = await down.store!.getHold(id);
      expect(h?.state).toBe("held");
      expect(h!.releaseAt.getTime()).toBeGreaterThan(Date.now() + 4 * MIN);
      expect(await down.store!.openReleases()).toEqual([]);
    } finally {
      await down.close();
    }
  });

  it("a restart during the hold releases on time, once, even with two nodes ticking", async () => {
    const id = await putHold(rt, "example", "alice@example.com", ["later@elsewhere.org"], 10);
    await tick(0);
    await rt.close();
    const a = await Runtime.create({
      configText: configText(dir, sink.port),
      logger: pino({ level: "silent" }),
    });
    const b = await Runtime.create({
      configText: configText(dir, sink.port),
      logger: pino({ level: "silent" }),
    });
    try {
      expect((await holdTick(a, routesFor(a), new Date(Date.now() + 5 * MIN))).released).toEqual([]);
      const at = new Date(Date.now() + 11 * MIN);
      const [ra, rb] = await Promise.all([holdTick(a, routesFor(a), at), holdTick(b, routesFor(b), at)]);
      expect([...ra.released, ...rb.released].filter((x) => x === id)).toEqual([id]);
      expect(copies(id).length).toBe(1);
      expect((await notices(id)).length).toBe(1);
    } finally {
      await a.close();
      await b.close();
      rt = await Runtime.create({
        configText: configText(dir, sink.port),
        logger: pino({ level: "silent" }),
      });
    }
  });
});

const haveSwaks = enabled && haveTool("/usr/bin/swaks", "swaks");

describe.skipIf(!haveSwaks)("hold_options end to end (submission → hold → release)", () => {
  it("holds mail to external recipients and moves >K external To/Cc addresses to Bcc", async () => {
    const sink = await startSink();
    const hash = await hashPassword("s3cret");
    const proxy = await startProxy(
      (dir) => `
node: { link_secret: "${SECRET}" }
store: sqlite:${dir}/store.db
delivery: smtp://127.0.0.1:${sink.port}
smtp:
  hostname: mx.test
  listeners:
    inbound: { listen: "127.0.0.1:0" }
    submission: { listen: "127.0.0.1:0", allow_insecure_auth: true }
    submissions: { listen: "127.0.0.1:0" }
policy:
  filters:
    hold_options:
      enabled: true
      options: { internal_domains: [example.com], hold_external: true, minutes: 7, external_to_bcc_over: 1 }
tenants:
  - id: example
    domains: [example.com]
    users:
      - { address: alice@example.com, password_hash: "${hash}" }
      - { address: carol@example.com }
`,
    );
    try {
      const exec = promisify(execFile);
      const { stdout } = await exec("swaks", [
        "--hide-informational",
        "-s",
        "127.0.0.1",
        "-p",
        String(proxy.port("submission")),
        "-a",
        "PLAIN",
        "-au",
        "alice@example.com",
        "-ap",
        "s3cret",
        "-f",
        "alice@example.com",
        "-t",
        "one@elsewhere.org,two@other.org",
        "--header",
        "To: One <one@elsewhere.org>, two@other.org, carol@example.com",
        "--body",
        "quarterly numbers",
      ]);
      const ref = /250 2\.0\.0 Ok: queued as (\S+)/.exec(stdout)?.[1];
      expect(ref, stdout).toBeDefined();
      expect(sink.messages().filter((m) => m.includes("quarterly numbers"))).toEqual([]);
      const held = await proxy.runtime.store!.getHold(`${ref}-H1`);
      expect(held?.reason).toMatch(/external recipients: one@elsewhere\.org, two@other\.org/);
      // Outbound mail's hold belongs to the authenticated sender's tenant (was null).
      expect(held?.tenant).toBe("example");
      expect(held!.releaseAt.getTime() - held!.createdAt.getTime()).toBeGreaterThan(6 * MIN);
      const rt = proxy.runtime;
      const r = await holdTick(rt, routesFor(rt), new Date(Date.now() + 8 * MIN));
      expect(r.released).toEqual([`${ref}-H1`]);
      const out = sink.messages().filter((m) => m.includes("quarterly numbers"));
      expect(out.length).toBe(1);
      const parsed = await simpleParser(Buffer.from(out[0]!));
      expect(parsed.headers.get("to")).toMatchObject({ text: "carol@example.com" });
      expect(out[0]).not.toMatch(/^(To|Cc):.*elsewhere/im);
      expect([...out[0]!.matchAll(/X-Rcpt-Args: <?([^>\s]+)/gi)].map((m) => m[1]).sort()).toEqual([
        "one@elsewhere.org",
        "two@other.org",
      ]);
    } finally {
      await proxy.close();
      await sink.stop();
    }
  });
});
