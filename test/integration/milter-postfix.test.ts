// Sluice's milter server behind a real, private Postfix: what a client and the next hop see.
// Decisions come from a recording fake Session (keyed on Subject and recipients) and, in the
// last test, from the real pipeline. Needs the Debian package `postfix`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { Writable } from "node:stream";
import { MilterServer } from "../../src/milter/server.ts";
import { FakeSession } from "../../src/pipeline/session.fake.ts";
import { commitExtraCopies } from "../../src/delivery/reinject.ts";
import { Routes } from "../../src/delivery/nexthop/route.ts";
import type { NextHop } from "../../src/delivery/nexthop/types.ts";
import type { DataResult, OutcomeGroup, Session } from "../../src/pipeline/session.ts";
import type { Transaction } from "../../src/message/transaction.ts";
import { postfixAvailable, startPostfix, type PostfixInstance } from "../helpers/postfix.ts";
import { SmtpSink } from "../helpers/sink.ts";
import { SmtpClient } from "../helpers/smtp-dialog.ts";
import { wantedFor } from "../../src/milter/negotiation.ts";
import type { EnvelopeStage } from "../../src/pipeline/stage-needs.ts";

const available = postfixAvailable();

const group = (recipients: string[], over: Partial<OutcomeGroup> = {}): OutcomeGroup => ({
  recipients,
  disposition: "deliver",
  edits: [],
  bcc: [],
  redirect: null,
  reason: null,
  holdMinutes: null,
  ...over,
});

/** The test's policy: Subject keywords and recipient local parts decide. */
async function decide(tx: Transaction): Promise<DataResult> {
  const subject = tx.headers.get("Subject") ?? "";
  // Longer than milter_content_timeout: only PROGRESS keeps Postfix waiting.
  if (subject.includes("SLOW")) await new Promise((r) => setTimeout(r, 3500));
  const rcpts = tx.envelope.recipients.map((r) => r.address);
  if (subject.includes("REJECT")) {
    return {
      reply: { code: 550, enhanced: "5.7.1", text: "Rejected by Sluice: 100% spam" },
      groups: [],
      verdicts: [],
    };
  }
  if (subject.includes("QUARANTINE")) {
    return {
      reply: null,
      groups: [group(rcpts, { disposition: "quarantine", reason: "spam" })],
      verdicts: [],
    };
  }
  const by = (p: string) => rcpts.filter((r) => r.startsWith(p));
  const rest = rcpts.filter((r) => !/^(quarantine-me|discard-me|other)@/.test(r));
  const groups = [
    group(rest, {
      edits: [
        { op: "add", name: "X-Sluice-Scanned", value: "yes; 100% clean" },
        { op: "add", name: "Authentication-Results", value: "mx.sluice.test; spf=pass" },
        { op: "delete", name: "X-Remove-Me" },
      ],
      bcc: subject.includes("BCC") ? ["archive@archive.test"] : [],
    }),
  ];
  if (by("quarantine-me").length)
    groups.push(group(by("quarantine-me"), { disposition: "quarantine", reason: "virus" }));
  if (by("discard-me").length) groups.push(group(by("discard-me"), { disposition: "discard" }));
  if (by("other").length)
    groups.push(group(by("other"), { edits: [{ op: "add", name: "X-Copy", value: "other" }] }));
  return { reply: null, groups, verdicts: [] };
}

describe.skipIf(!available)("milter behind Postfix", () => {
  let sink: SmtpSink;
  let pf: PostfixInstance;
  let server: MilterServer;
  let useRealPipeline: (() => Session) | null = null;
  const sessions: FakeSession[] = [];
  const stored: { recipients: string[]; reason: string | null; message: string }[] = [];
  const logs: Record<string, unknown>[] = [];
  const logSink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split("\n").filter(Boolean)) logs.push(JSON.parse(line));
      cb();
    },
  });

  beforeAll(async () => {
    sink = new SmtpSink();
    await sink.start();
    let reinjectHop: NextHop | null = null;
    server = new MilterServer({
      newSession: () => {
        if (useRealPipeline) return useRealPipeline();
        const s = new FakeSession({
          rcpt: (a) =>
            a.startsWith("unknown@")
              ? { ok: false, reply: { code: 550, enhanced: "5.1.1", text: "No such user here" } }
              : { ok: true },
          data: (tx) => decide(tx),
        });
        sessions.push(s);
        return s;
      },
      commit: async (tx, result, extra) => {
        for (const g of extra.store) {
          stored.push({
            recipients: g.recipients,
            reason: g.reason,
            message: (await tx.spool!.buffer()).toString(),
          });
        }
        const log = pino({ level: "silent" });
        const only = { store: [], reinject: extra.reinject };
        return commitExtraCopies(tx, result, only, { store: null, owner: () => null, hop: reinjectHop, log });
      },
      logger: pino({ level: "info" }, logSink),
      progressIntervalMs: 500,
    });
    const { port } = await server.listen("inet:127.0.0.1:0");
    pf = await startPostfix({
      sinkPort: sink.port,
      milter: `inet:127.0.0.1:${port}`,
      extra: ["milter_content_timeout = 2s"],
    });
    reinjectHop = new Routes("sluice.test", 30_000).hop(`smtp://127.0.0.1:${pf.reinjectPort}`);
  });

  afterAll(async () => {
    await pf?.stop();
    await server?.close();
    await sink?.stop();
  });

  const delivered = (subject: string) =>
    sink.messages.filter((m) => m.data.includes(`Subject: ${subject}\r\n`));
  async function waitDelivered(subject: string, n = 1) {
    const deadline = Date.now() + 20000;
    while (delivered(subject).length < n) {
      if (Date.now() > deadline)
        throw new Error(`"${subject}" not delivered; maillog:\n${await pf.maillog()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return delivered(subject);
  }
  const msg = (subject: string, extra = "") =>
    `From: a@sender.test\nTo: b@rcpt.test\nSubject: ${subject}\nX-Remove-Me: secret\n${extra}\nHello from the test.\n.leading dot\n`;

  it("headers added by the milter reach the next hop; deleted ones are gone; trace headers on top", async () => {
    const c = await SmtpClient.open(pf.smtpPort);
    await c.cmd("EHLO client.test");
    const sent = await c.send("a@sender.test", ["b@rcpt.test"], msg("headers test"));
    expect(sent.code).toBe(250);
    await c.quit();
    // Postfix's `i` macro (queue id) reached the milter and its summary log line.
    const queueId = /queued as (\w+)/.exec(sent.text)![1];
    expect(logs.some((l) => l.msg === "milter message done" && l.queueId === queueId)).toBe(true);
    const [m] = await waitDelivered("headers test");
    expect(m!.to).toEqual(["b@rcpt.test"]);
    expect(m!.data).toContain("X-Sluice-Scanned: yes; 100% clean\r\n");
    expect(m!.data).not.toContain("X-Remove-Me");
    expect(m!.data.startsWith("Authentication-Results: mx.sluice.test; spf=pass\r\n")).toBe(true);
    expect(m!.data).toContain("\r\n\r\nHello from the test.\r\n.leading dot\r\n");
    // The session saw the message as the client sent it (Postfix adds its Received: first).
    const seen = sessions
      .flatMap((s) => s.messages())
      .map(String)
      .find((x) => x.includes("Subject: headers test"));
    expect(seen).toMatch(/Subject: headers test\r\nX-Remove-Me: secret\r\n/);
    expect(seen).toContain("\r\n\r\nHello from the test.\r\n.leading dot\r\n");
  });

  it("PROGRESS keeps Postfix waiting past milter_content_timeout while data() runs", async () => {
    const c = await SmtpClient.open(pf.smtpPort);
    await c.cmd("EHLO client.test");
    const r = await c.send("a@sender.test", ["b@rcpt.test"], msg("SLOW scan"));
    await c.quit();
    expect(r.code).toBe(250);
    await waitDelivered("SLOW scan");
  });

  it("a reject reaches the client with our code and text", async () => {
    const c = await SmtpClient.open(pf.smtpPort);
    await c.cmd("EHLO client.test");
    const r = await c.send("a@sender.test", ["b@rcpt.test"], msg("REJECT me"));
    expect(r).toEqual({ code: 550, text: "5.7.1 Rejected by Sluice: 100% spam" });
    const rc = await c.cmd("MAIL FROM:<a@sender.test>");
    expect(rc.code).toBe(250);
    expect(await c.cmd("RCPT TO:<unknown@rcpt.test>")).toEqual({
      code: 550,
      text: "5.1.1 No such user here",
    });
    await c.quit();
  });

  it("quarantine: stored through storeGroup, never delivered", async () => {
    const c = await SmtpClient.open(pf.smtpPort);
    await c.cmd("EHLO client.test");
    expect((await c.send("a@sender.test", ["b@rcpt.test"], msg("QUARANTINE this"))).code).toBe(250);
    // A marker message on the same path, so "not delivered" is checked after the queue moved on.
    expect((await c.send("a@sender.test", ["b@rcpt.test"], msg("after quarantine"))).code).toBe(250);
    await c.quit();
    await waitDelivered("after quarantine");
    expect(delivered("QUARANTINE this")).toEqual([]);
    const q = stored.find((s) => s.message.includes("Subject: QUARANTINE this"));
    expect(q).toMatchObject({ recipients: ["b@rcpt.test"], reason: "spam" });
    expect(await pf.maillog()).toMatch(/milter-discard/);
  });

  it("ADDRCPT: the bcc recipient gets the message", async () => {
    const c = await SmtpClient.open(pf.smtpPort);
    await c.cmd("EHLO client.test");
    expect((await c.send("a@sender.test", ["b@rcpt.test"], msg("BCC test"))).code).toBe(250);
    await c.quit();
    const [m] = await waitDelivered("BCC test");
    expect([...m!.to].sort()).toEqual(["archive@archive.test", "b@rcpt.test"]);
  });

  it("mixed outcomes: DELRCPT, quarantine store, discard and re-injection of a second copy", async () => {
    const c = await SmtpClient.open(pf.smtpPort);
    await c.cmd("EHLO client.test");
    const to = ["b@rcpt.test", "quarantine-me@rcpt.test", "discard-me@rcpt.test", "other@rcpt.test"];
    expect((await c.send("a@sender.test", to, msg("mixed test"))).code).toBe(250);
    await c.quit();
    const copies = await waitDelivered("mixed test", 2);
    const main = copies.find((m) => m.to.includes("b@rcpt.test"))!;
    const other = copies.find((m) => m.to.includes("other@rcpt.test"))!;
    expect(main.to).toEqual(["b@rcpt.test"]);
    expect(main.data).toContain("X-Sluice-Scanned:");
    expect(other.to).toEqual(["other@rcpt.test"]);
    expect(other.data).toContain("X-Copy: other\r\n");
    expect(other.data).not.toContain("X-Sluice-Scanned");
    expect(stored.find((s) => s.message.includes("Subject: mixed test"))?.recipients).toEqual([
      "quarantine-me@rcpt.test",
    ]);
    expect(sink.messages.some((m) => m.to.includes("discard-me@rcpt.test"))).toBe(false);
  });

  it("several messages on one SMTP connection, and RSET mid-transaction", async () => {
    const before = sessions.length;
    const c = await SmtpClient.open(pf.smtpPort);
    await c.cmd("EHLO client.test");
    for (const n of [1, 2, 3])
      expect((await c.send("a@sender.test", ["b@rcpt.test"], msg(`multi ${n}`))).code).toBe(250);
    expect((await c.cmd("MAIL FROM:<a@sender.test>")).code).toBe(250);
    expect((await c.cmd("RCPT TO:<b@rcpt.test>")).code).toBe(250);
    expect((await c.cmd("RSET")).code).toBe(250);
    expect((await c.send("a@sender.test", ["c@rcpt.test"], msg("after rset"))).code).toBe(250);
    await c.quit();
    for (const n of [1, 2, 3]) await waitDelivered(`multi ${n}`);
    const [m] = await waitDelivered("after rset");
    expect(m!.to).toEqual(["c@rcpt.test"]);
    // One Session for the SMTP connection: four messages, one aborted transaction.
    const mine = sessions.slice(before).filter((s) => s.messages().length > 0);
    expect(mine).toHaveLength(1);
    const s = mine[0]!;
    expect(s.messages().map((x) => /Subject: (.*)\r\n/.exec(String(x))![1])).toEqual([
      "multi 1",
      "multi 2",
      "multi 3",
      "after rset",
    ]);
    const calls = s.calls.map((x) => x.call);
    const rcptB = calls.lastIndexOf("rcpt", calls.lastIndexOf("rcpt") - 1);
    expect(calls.slice(rcptB, rcptB + 3)).toEqual(["rcpt", "reset", "mail"]);
  });

  it("through the real pipeline (src/runtime.ts): a clean message is delivered", async () => {
    const { Runtime } = await import("../../src/runtime.ts");
    const rt = await Runtime.create({ store: "never", logger: pino({ level: "warn" }) });
    useRealPipeline = () => rt.newSession();
    try {
      const c = await SmtpClient.open(pf.smtpPort);
      await c.cmd("EHLO client.test");
      const r = await c.send("a@sender.test", ["b@rcpt.test"], msg("real pipeline"));
      await c.quit();
      expect(r.code).toBe(250);
      const [m] = await waitDelivered("real pipeline");
      expect(m!.to).toEqual(["b@rcpt.test"]);
    } finally {
      useRealPipeline = null;
      await rt.close();
    }
  });
});

describe.skipIf(!available)("milter behind Postfix: quarantine_mode mta, and Sluice down", () => {
  let sink: SmtpSink;
  let pf: PostfixInstance;
  let server: MilterServer;
  const stored: string[] = [];

  beforeAll(async () => {
    sink = new SmtpSink();
    await sink.start();
    server = new MilterServer({
      newSession: () =>
        new FakeSession({
          data: (tx) => {
            const rcpts = tx.envelope.recipients.map((r) => r.address);
            const spam = (tx.headers.get("Subject") ?? "").includes("HOLD");
            return {
              reply: null,
              groups: [group(rcpts, spam ? { disposition: "quarantine", reason: "spam score 14" } : {})],
              verdicts: [],
            };
          },
        }),
      commit: async (tx, _result, extra) => {
        if (extra.reinject.length) throw new Error("not used");
        stored.push(tx.id);
        return [];
      },
      logger: pino({ level: "warn" }),
      quarantineMode: "mta",
    });
    const { port } = await server.listen("inet:127.0.0.1:0");
    pf = await startPostfix({ sinkPort: sink.port, milter: `inet:127.0.0.1:${port}` });
  });

  afterAll(async () => {
    await pf?.stop();
    await server?.close();
    await sink?.stop();
  });

  it("a wholly quarantined message goes to Postfix's hold queue via SMFIR_QUARANTINE", async () => {
    const c = await SmtpClient.open(pf.smtpPort);
    await c.cmd("EHLO client.test");
    const r = await c.send("a@sender.test", ["b@rcpt.test"], "Subject: HOLD me\n\nspam\n");
    await c.quit();
    expect(r.code).toBe(250);
    const id = /queued as (\w+)/.exec(r.text)![1]!;
    // postqueue marks held messages with "!" after the queue id.
    expect(await pf.queue()).toMatch(new RegExp(`^${id}!`, "m"));
    expect(await pf.maillog()).toMatch(
      new RegExp(`${id}: milter-hold: END-OF-MESSAGE .*milter triggers HOLD action`),
    );
    expect(stored).toEqual([]);
    expect(sink.count).toBe(0);
  });

  it("with Sluice down, Postfix tempfails (milter_default_action = tempfail): nothing passes unscanned", async () => {
    await server.close();
    const c = await SmtpClient.open(pf.smtpPort);
    const ehlo = await c.cmd("EHLO client.test");
    let r = ehlo;
    if (ehlo.code === 250) r = await c.send("a@sender.test", ["b@rcpt.test"], "Subject: while down\n\nx\n");
    await c.quit().catch(() => undefined);
    expect(r.code).toBeGreaterThanOrEqual(400);
    expect(r.code).toBeLessThan(500);
    await new Promise((res) => setTimeout(res, 500));
    expect(sink.messages.some((m) => m.data.includes("while down"))).toBe(false);
  });
});

describe.skipIf(!available)("milter behind Postfix: only the stages the policy may refuse wait", () => {
  let sink: SmtpSink;
  let pf: PostfixInstance;
  let server: MilterServer;
  // What the configuration lets refuse before end of message (start.ts derives it).
  let answer: EnvelopeStage[] = [];
  const calls: string[] = [];

  beforeAll(async () => {
    sink = new SmtpSink();
    await sink.start();
    server = new MilterServer({
      // unknown@ is refused at RCPT whatever was negotiated: a filter at RCPT that a configuration
      // revision enabled after Postfix opened its milter connection.
      newSession: () => {
        const s = new FakeSession({
          rcpt: (a) =>
            a.startsWith("unknown@")
              ? { ok: false, reply: { code: 550, enhanced: "5.1.1", text: "No such user here" } }
              : { ok: true },
          data: (tx) => ({
            reply: null,
            verdicts: [],
            groups: [
              group(
                tx.envelope.recipients.map((r) => r.address),
                { edits: [{ op: "add", name: "X-Sluice-Scanned", value: "yes" }] },
              ),
            ],
          }),
        });
        const rcpt = s.rcpt.bind(s);
        s.rcpt = (a, p) => (calls.push(`rcpt ${a}`), rcpt(a, p));
        return s;
      },
      commit: async () => [],
      logger: pino({ level: "silent" }),
      wanted: () => wantedFor({ answer: new Set(answer), filters: [] }),
    });
    const { port } = await server.listen("inet:127.0.0.1:0");
    pf = await startPostfix({ sinkPort: sink.port, milter: `inet:127.0.0.1:${port}` });
  });

  afterAll(async () => {
    await pf?.stop();
    await server?.close();
    await sink?.stop();
  });

  const delivered = (subject: string) =>
    sink.messages.filter((m) => m.data.includes(`Subject: ${subject}\r\n`));
  async function waitDelivered(subject: string) {
    const deadline = Date.now() + 20000;
    while (delivered(subject).length < 1) {
      if (Date.now() > deadline)
        throw new Error(`"${subject}" not delivered; maillog:\n${await pf.maillog()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return delivered(subject)[0]!;
  }
  const msg = (subject: string) => `From: a@sender.test\nSubject: ${subject}\n\nHello.\n`;

  it("nothing waits before DATA: a clean message is scanned, edited and delivered", async () => {
    answer = [];
    const c = await SmtpClient.open(pf.smtpPort);
    await c.cmd("EHLO client.test");
    expect((await c.send("a@sender.test", ["b@rcpt.test"], msg("no wait"))).code).toBe(250);
    await c.quit();
    const m = await waitDelivered("no wait");
    expect(m.to).toEqual(["b@rcpt.test"]);
    expect(m.data).toContain("X-Sluice-Scanned: yes\r\n");
    expect(calls).toContain("rcpt b@rcpt.test");
  });

  it("a recipient refused after RCPT was negotiated without reply: the refusal comes at end of DATA", async () => {
    answer = [];
    const c = await SmtpClient.open(pf.smtpPort);
    await c.cmd("EHLO client.test");
    expect(await c.cmd("MAIL FROM:<a@sender.test>")).toMatchObject({ code: 250 });
    // Postfix did not wait for the milter, so RCPT is accepted here …
    expect(await c.cmd("RCPT TO:<unknown@rcpt.test>")).toMatchObject({ code: 250 });
    expect(await c.cmd("DATA")).toMatchObject({ code: 354 });
    c["socket"].write(msg("only unknown").replace(/\n/g, "\r\n") + ".\r\n");
    // … and the message is refused with the recipient's own reply.
    expect(await c.reply()).toEqual({ code: 550, text: "5.1.1 No such user here" });
    // With a second, accepted recipient the refusal cannot apply to one of them: retry later.
    const r = await c.send("a@sender.test", ["b@rcpt.test", "unknown@rcpt.test"], msg("one unknown"));
    expect(r).toEqual({
      code: 451,
      text: "4.3.0 Recipient policy changed during the session, try again later",
    });
    await c.quit();
  });

  it("a new configuration that refuses at RCPT: new connections wait for RCPT replies again", async () => {
    answer = ["rcpt"];
    const c = await SmtpClient.open(pf.smtpPort);
    await c.cmd("EHLO client.test");
    expect(await c.cmd("MAIL FROM:<a@sender.test>")).toMatchObject({ code: 250 });
    expect(await c.cmd("RCPT TO:<unknown@rcpt.test>")).toEqual({
      code: 550,
      text: "5.1.1 No such user here",
    });
    expect(await c.cmd("RCPT TO:<b@rcpt.test>")).toMatchObject({ code: 250 });
    expect(await c.cmd("DATA")).toMatchObject({ code: 354 });
    c["socket"].write(msg("after").replace(/\n/g, "\r\n") + ".\r\n");
    expect((await c.reply()).code).toBe(250);
    await c.quit();
    const m = await waitDelivered("after");
    expect(m.to).toEqual(["b@rcpt.test"]);
    // Nothing refused was delivered, and Postfix logged no milter trouble.
    expect(delivered("only unknown")).toEqual([]);
    expect(delivered("one unknown")).toEqual([]);
    expect(await pf.maillog()).not.toMatch(/milter.*(error|unexpected|timeout)/i);
  });
});
