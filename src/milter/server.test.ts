import { afterEach, describe, expect, it } from "vitest";
import { Writable } from "node:stream";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import type { OutcomeGroup } from "../pipeline/session.ts";
import { DEFAULT_INTAKE, type IntakeLimits, type Transaction } from "../message/transaction.ts";
import { Cmd, Proto } from "./constants.ts";
import { FakeSession, type FakeDecisions } from "../pipeline/session.fake.ts";
import { frame } from "./framing.ts";
import { SocketSpecError } from "./errors.ts";
import { DEFAULT_WANTED, forTcp, wantedFor } from "./negotiation.ts";
import type { EnvelopeStage } from "../pipeline/stage-needs.ts";
import { MilterServer, parseSocketSpec, type MilterServerOptions } from "./server.ts";
import { mta, TestMta } from "../../test/helpers/milter-mta.ts";

const servers: MilterServer[] = [];
const clients: TestMta[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

interface Harness {
  server: MilterServer;
  port: number;
  sessions: FakeSession[];
  stored: { tx: Transaction; group: OutcomeGroup }[];
  reinjected: { tx: Transaction; group: OutcomeGroup }[];
  logs: Record<string, unknown>[];
  events: string[];
}

async function start(
  decide: FakeDecisions = {},
  over: Partial<MilterServerOptions> = {},
  limits?: IntakeLimits,
): Promise<Harness> {
  const h: Harness = {
    server: null!,
    port: 0,
    sessions: [],
    stored: [],
    reinjected: [],
    logs: [],
    events: [],
  };
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split("\n").filter(Boolean)) h.logs.push(JSON.parse(line));
      cb();
    },
  });
  h.server = new MilterServer({
    newSession: () => {
      const s = new FakeSession(decide, true, limits);
      h.sessions.push(s);
      return s;
    },
    commit: async (tx, _result, extra) => {
      for (const group of extra.store) {
        h.events.push("store");
        h.stored.push({ tx, group });
      }
      for (const group of extra.reinject) h.reinjected.push({ tx, group });
      return [];
    },
    logger: pino({ level: "info" }, sink),
    progressIntervalMs: 0,
    ...over,
  });
  servers.push(h.server);
  h.port = (await h.server.listen("inet:127.0.0.1:0")).port!;
  return h;
}

async function open(h: Harness): Promise<TestMta> {
  const c = await TestMta.open(h.port);
  clients.push(c);
  return c;
}

/** Negotiate like Postfix 3.7 with milter_protocol = 6, then CONNECT + HELO. */
async function greet(c: TestMta, protocol = 0x1fffff): Promise<void> {
  c.send(mta.optneg(6, 0x1ff, protocol));
  expect((await c.next())!.code).toBe("O");
  c.send(
    mta.macro(Cmd.CONNECT, {
      j: "mx.example",
      "{client_addr}": "192.0.2.7",
      "{client_name}": "client.example",
    }),
    mta.connect("client.example", "4", 40000, "192.0.2.7"),
  );
  expect((await c.next())!.code).toBe("c");
  c.send(
    mta.macro(Cmd.HELO, { "{tls_version}": "TLSv1.3", "{cipher}": "TLS_AES_256_GCM_SHA384" }),
    mta.helo("client.example"),
  );
  expect((await c.next())!.code).toBe("c");
}

/** MAIL, RCPTs, headers and body; returns the replies to EOM. */
async function message(c: TestMta, rcpts: string[], body = "Hello.\r\n"): Promise<string[]> {
  c.send(mta.macro(Cmd.MAIL, { "{auth_authen}": "alice" }), mta.mail("<a@example.org>", "SIZE=100"));
  expect((await c.next())!.code).toBe("c");
  for (const r of rcpts) {
    c.send(mta.rcpt(`<${r}>`));
    expect((await c.next())!.code).toBe("c");
  }
  // Over TCP DATA is answered (negotiation.ts forTcp); NR_HDR, NR_EOH and NR_BODY are
  // negotiated: none of these gets an answer.
  c.send(mta.data());
  expect((await c.next())!.code).toBe("c");
  c.send(mta.header("From", " a@example.org"), mta.header("Subject", " hi"), mta.eoh(), mta.body(body));
  c.send(mta.macro(Cmd.BODYEOB, { i: "4ABC" }), mta.eom());
  return (await c.untilFinal()).map(
    (r) =>
      r.code +
      (r.index !== undefined ? `${r.index}:` : "") +
      (r.strings.length ? "|" + r.strings.join("|") : ""),
  );
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("MilterServer", () => {
  it("parses socket specs", () => {
    expect(parseSocketSpec("inet:127.0.0.1:8899")).toEqual({ host: "127.0.0.1", port: 8899 });
    expect(parseSocketSpec("inet:8899@localhost")).toEqual({ host: "localhost", port: 8899 });
    expect(parseSocketSpec("inet6:[::1]:8899")).toEqual({ host: "::1", port: 8899 });
    expect(parseSocketSpec("unix:/run/sluice.sock")).toEqual({ path: "/run/sluice.sock" });
    expect(() => parseSocketSpec("tcp:1")).toThrow(SocketSpecError);
    expect(() => parseSocketSpec("inet:host:99999")).toThrow(/bad host or port/);
  });

  it("negotiates, fills the session from commands and macros, and rebuilds the message bytes", async () => {
    const h = await start();
    const c = await open(h);
    c.send(mta.optneg(6, 0x1ff, 0x1fffff));
    const o = (await c.next())!;
    expect(o.code).toBe("O");
    expect(o.data.readUInt32BE(0)).toBe(6);
    // Over TCP, DATA is sent and answered (forTcp); all else as wanted.
    expect(o.data.readUInt32BE(8)).toBe(forTcp(DEFAULT_WANTED).optionalProtocol);
    expect(o.data.readUInt32BE(8) & (Proto.NODATA | Proto.NR_DATA)).toBe(0);
    expect(o.data.subarray(12).toString()).toContain("{auth_authen}");
    c.send(
      mta.macro(Cmd.CONNECT, {
        j: "mx.example",
        "{client_addr}": "192.0.2.7",
        "{client_name}": "client.example",
      }),
      mta.connect("client.example", "4", 40000, "192.0.2.7"),
    );
    expect((await c.next())!.code).toBe("c");
    c.send(mta.macro(Cmd.HELO, { "{tls_version}": "TLSv1.3", "{cipher}": "X" }), mta.helo("client.example"));
    expect((await c.next())!.code).toBe("c");
    expect(await message(c, ["b@example.net", "c@example.net"], "Hello.\r\n")).toEqual(["c"]);
    c.send(mta.quit());
    expect(await c.waitClosed()).toBe(true);
    const s = h.sessions[0]!;
    await h.server.close();
    expect(s.calls.map((x) => x.call)).toEqual([
      "connect",
      "setTls",
      "helo",
      "setAuth",
      "mail",
      "rcpt",
      "rcpt",
      "beginData",
      "data",
      "reset",
      "close",
    ]);
    expect(s.calls[0]).toEqual({
      call: "connect",
      info: {
        ingress: "milter",
        address: "192.0.2.7",
        port: 40000,
        name: "client.example",
        localName: "mx.example",
      },
    });
    expect(s.calls[1]).toEqual({ call: "setTls", protocol: "TLSv1.3", cipher: "X" });
    expect(s.calls[3]).toEqual({ call: "setAuth", login: "alice" });
    expect(s.calls[4]).toEqual({ call: "mail", address: "a@example.org", params: { SIZE: "100" } });
    expect(s.messages()[0]!.toString()).toBe("From: a@example.org\r\nSubject: hi\r\n\r\nHello.\r\n");
    expect(h.logs.some((l) => l.msg === "milter message done" && l.queueId === "4ABC")).toBe(true);
  });

  it("without HDR_LEADSPC adds the space after the colon itself; folded values get CRLF", async () => {
    const h = await start();
    const c = await open(h);
    await greet(c, 0x1fffff & ~Proto.HDR_LEADSPC);
    c.send(mta.mail("<a@x>"), mta.rcpt("<b@y>"));
    await c.next();
    await c.next();
    c.send(mta.header("Subject", "one\n\ttwo"), mta.header("X-Empty", ""), mta.eoh(), mta.eom("body"));
    expect((await c.untilFinal()).map((r) => r.code)).toEqual(["c"]);
    expect(h.sessions[0]!.messages()[0]!.toString()).toBe("Subject: one\r\n\ttwo\r\nX-Empty: \r\n\r\nbody");
  });

  it("maps the outcome groups to header edits, DELRCPT, store and re-injection", async () => {
    const h = await start({
      data: () => ({
        reply: null,
        verdicts: [],
        groups: [
          {
            ...grp(["b@y", "c@y"]),
            disposition: "deliver",
            edits: [
              { op: "add", name: "X-Sluice", value: "clean 100%" },
              { op: "delete", name: "Subject" },
            ],
            bcc: ["archive@y"],
          },
          { ...grp(["d@y"]), disposition: "quarantine", reason: "spam" },
          { ...grp(["e@y"]), edits: [{ op: "add", name: "X-Other", value: "1" }] },
        ],
      }),
    });
    const c = await open(h);
    await greet(c);
    expect(await message(c, ["b@y", "c@y", "d@y", "e@y"])).toEqual([
      "m1:|Subject|",
      "h|X-Sluice| clean 100%",
      "-|<d@y>",
      "-|<e@y>",
      "+|<archive@y>",
      "c",
    ]);
    expect(h.stored.map((s) => s.group.recipients)).toEqual([["d@y"]]);
    expect(h.reinjected.map((s) => s.group.recipients)).toEqual([["e@y"]]);
  });

  it("trace headers go on top with INSHEADER 0 unless prependTraceHeaders is false", async () => {
    const edits = { edits: [{ op: "add" as const, name: "Authentication-Results", value: "mx; spf=pass" }] };
    for (const prepend of [true, false]) {
      const h = await start(
        {
          data: (tx) => ({
            reply: null,
            verdicts: [],
            groups: [{ ...grp(tx.envelope.recipients.map((r) => r.address)), ...edits }],
          }),
        },
        { prependTraceHeaders: prepend },
      );
      const c = await open(h);
      await greet(c);
      expect(await message(c, ["b@y"])).toEqual([
        prepend ? "i0:|Authentication-Results| mx; spf=pass" : "h|Authentication-Results| mx; spf=pass",
        "c",
      ]);
    }
  });

  it("a pipeline reply becomes REPLYCODE; a rejected recipient gets its own reply", async () => {
    const h = await start({
      rcpt: (a) =>
        a === "nobody@y"
          ? { ok: false, reply: { code: 550, enhanced: "5.1.1", text: "no such user" } }
          : { ok: true },
      data: () => ({
        reply: { code: 554, enhanced: "5.7.1", text: "virus found: EICAR" },
        groups: [],
        verdicts: [],
      }),
    });
    const c = await open(h);
    await greet(c);
    c.send(mta.mail("<a@x>"));
    await c.next();
    c.send(mta.rcpt("<nobody@y>"));
    expect(await c.next()).toMatchObject({ code: "y", strings: ["550 5.1.1 no such user"] });
    c.send(mta.rcpt("<b@y>"));
    expect((await c.next())!.code).toBe("c");
    c.send(mta.header("Subject", " x"), mta.eoh(), mta.eom("x"));
    expect((await c.untilFinal()).map((r) => r.strings[0])).toEqual(["554 5.7.1 virus found: EICAR"]);
  });

  it("stores before answering, and tempfails when the store fails", async () => {
    let fail = false;
    const h = await start(
      {
        data: (tx) => ({
          reply: null,
          verdicts: [],
          groups: [{ ...grp(tx.envelope.recipients.map((r) => r.address)), disposition: "quarantine" }],
        }),
      },
      {
        commit: async () => {
          if (fail) throw new Error("disk full");
          return [];
        },
      },
    );
    const c = await open(h);
    await greet(c);
    expect(await message(c, ["b@y"])).toEqual(["d"]);
    fail = true;
    expect(await message(c, ["b@y"])).toEqual(["t"]);
    expect(h.logs.some((l) => l.msg === "milter end of message failed, answering tempfail")).toBe(true);
  });

  it("afterCommit runs after an accepted EOM's reply, never before it, and not after a reject", async () => {
    const calls: { rcpts: string[]; subject: string | null; groups: string[] }[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let finished = 0;
    let mode: "deliver" | "reject" | "quarantine" = "deliver";
    const h = await start(
      {
        data: (tx) => {
          const rcpts = tx.envelope.recipients.map((r) => r.address);
          if (mode === "reject")
            return { reply: { code: 550, enhanced: "5.7.1", text: "no" }, verdicts: [], groups: [] };
          return { reply: null, verdicts: [], groups: [{ ...grp(rcpts), disposition: mode }] };
        },
      },
      {
        afterCommit: async (tx, result) => {
          calls.push({
            rcpts: tx.envelope.recipients.map((r) => r.address),
            subject: tx.headers.get("Subject"),
            groups: result.groups.map((g) => g.disposition),
          });
          if (calls.length === 1) await gate; // a slow first call must not hold up any reply
          if (calls.length === 2) throw new Error("next hop down");
          finished++;
        },
      },
    );
    const c = await open(h);
    await greet(c);
    expect(await message(c, ["b@y"])).toEqual(["c"]);
    await until(() => calls.length === 1);
    mode = "reject";
    expect(await message(c, ["r@y"])).toEqual(["y|550 5.7.1 no"]);
    mode = "quarantine";
    expect(await message(c, ["q@y"])).toEqual(["d"]);
    mode = "deliver";
    expect(await message(c, ["d@y"])).toEqual(["c"]);
    await until(() => calls.length === 3);
    expect(calls).toEqual([
      { rcpts: ["b@y"], subject: "hi", groups: ["deliver"] },
      { rcpts: ["q@y"], subject: "hi", groups: ["quarantine"] },
      { rcpts: ["d@y"], subject: "hi", groups: ["deliver"] },
    ]);
    expect(h.logs.some((l) => l.msg === "after-commit work failed" && l.err === "next hop down")).toBe(true);
    // close() waits for the call still in flight.
    expect(finished).toBe(1);
    const closed = h.server.close().then(() => finished);
    await new Promise((r) => setTimeout(r, 50));
    release();
    expect(await closed).toBe(2);
  });

  it("several messages on one connection, ABORT mid-message and implicit abort by a new MAIL", async () => {
    const h = await start();
    const c = await open(h);
    await greet(c);
    expect(await message(c, ["b@y"], "first\r\n")).toEqual(["c"]);
    c.send(mta.mail("<a@x>"), mta.rcpt("<b@y>"));
    await c.next();
    await c.next();
    c.send(mta.header("Subject", " aborted"), mta.abort());
    expect(await message(c, ["b@y"], "second\r\n")).toEqual(["c"]);
    c.send(mta.mail("<a@x>"));
    await c.next();
    expect(await message(c, ["c@y"], "third\r\n")).toEqual(["c"]);
    const s = h.sessions[0]!;
    expect(s.messages().map((m) => m.toString().split("\r\n\r\n")[1])).toEqual([
      "first\r\n",
      "second\r\n",
      "third\r\n",
    ]);
    expect(s.calls.filter((x) => x.call === "reset")).toHaveLength(5);
    expect(h.sessions).toHaveLength(1);
  });

  it("QUIT_NC ends the SMTP session and the next CONNECT gets a new one without OPTNEG", async () => {
    const h = await start();
    const c = await open(h);
    await greet(c);
    c.send(mta.quitNc(), mta.connect("second.example", "6", 25, "IPv6:2001:db8::5"));
    expect((await c.next())!.code).toBe("c");
    expect(h.sessions).toHaveLength(2);
    expect(h.sessions[0]!.calls.at(-1)!.call).toBe("close");
    expect(h.sessions[1]!.calls[0]).toMatchObject({ info: { address: "2001:db8::5", port: 25 } });
  });

  it("never replies to commands flagged no-reply (NR_CONN, NR_HELO, NR_MAIL, NR_RCPT)", async () => {
    const nr = Proto.NR_CONN | Proto.NR_HELO | Proto.NR_MAIL | Proto.NR_RCPT;
    const h = await start(
      {},
      { wanted: { ...DEFAULT_WANTED, optionalProtocol: DEFAULT_WANTED.optionalProtocol | nr } },
    );
    const c = await open(h);
    c.send(mta.optneg(6, 0x1ff, 0x1fffff));
    expect((await c.next())!.data.readUInt32BE(8) & nr).toBe(nr);
    c.send(mta.connect("h", "4", 1, "192.0.2.1"), mta.helo("h"), mta.mail("<a@x>"), mta.rcpt("<b@y>"));
    c.send(mta.header("A", " b"), mta.eoh(), mta.body("x"), mta.eom());
    // The only reply is the one to EOM; connect/helo/mail/rcpt/header/eoh/body got none.
    expect((await c.untilFinal()).map((r) => r.code)).toEqual(["c"]);
    expect(await c.next(300).catch(() => "none")).toBe("none");
    expect(h.sessions[0]!.calls.map((x) => x.call).slice(0, 4)).toEqual(["connect", "helo", "mail", "rcpt"]);
  });

  it("asks `wanted` at every OPTNEG: a new configuration applies to the connections opened after it", async () => {
    let answer: EnvelopeStage[] = [];
    const h = await start({}, { wanted: () => wantedFor({ answer: new Set(answer), filters: [] }) });
    const negotiated = async () => {
      const c = await open(h);
      c.send(mta.optneg(6, 0x1ff, 0x1fffff));
      return (await c.next())!.data.readUInt32BE(8) & (Proto.NR_MAIL | Proto.NR_RCPT);
    };
    expect(await negotiated()).toBe(Proto.NR_MAIL | Proto.NR_RCPT);
    answer = ["rcpt"];
    expect(await negotiated()).toBe(Proto.NR_MAIL);
  });

  describe("a refusal at a stage negotiated as no-reply is answered at end of message", () => {
    const refuseAt = (stage: EnvelopeStage, address = "nobody@y") => ({
      [stage]: (a: unknown) =>
        a === address || stage === "connect" || stage === "helo"
          ? { ok: false as const, reply: { code: 550, enhanced: "5.7.1", text: `refused at ${stage}` } }
          : { ok: true as const },
    });
    // The configuration at OPTNEG let nothing refuse before DATA; the session (a newer one) does.
    const noWait = { wanted: wantedFor({ answer: new Set<EnvelopeStage>(), filters: [] }) };
    const send = async (c: TestMta, rcpts: string[]) => {
      c.send(mta.mail("<a@x>"), ...rcpts.map((r) => mta.rcpt(`<${r}>`)));
      c.send(mta.header("Subject", " hi"), mta.body("x\r\n"), mta.eom());
      return (await c.untilFinal()).map((r) => r.code + (r.strings[0] ? " " + r.strings[0] : ""));
    };
    const greetNoWait = async (c: TestMta) => {
      c.send(mta.optneg(), mta.connect("h", "4", 1, "192.0.2.1"), mta.helo("h"));
      expect((await c.next())!.code).toBe("O");
    };

    it("RCPT: the only recipient refused → its reply; with another one accepted → retry (451)", async () => {
      const h = await start(refuseAt("rcpt"), noWait);
      const c = await open(h);
      await greetNoWait(c);
      expect(await send(c, ["nobody@y"])).toEqual(["y 550 5.7.1 refused at rcpt"]);
      expect(await send(c, ["b@y", "nobody@y"])).toEqual([
        "y 451 4.3.0 Recipient policy changed during the session, try again later",
      ]);
      // Nothing of a refused message reached the pipeline; the next one is scanned as usual.
      expect(h.sessions[0]!.calls.filter((x) => x.call === "data" || x.call === "beginData")).toEqual([]);
      expect(await send(c, ["b@y"])).toEqual(["c"]);
      expect(h.sessions[0]!.messages().map(String)).toEqual(["Subject: hi\r\n\r\nx\r\n"]);
      expect(h.logs.some((l) => l.msg === "refusal at a no-reply stage, answered at end of message")).toBe(
        true,
      );
    });

    it("a temporary RCPT refusal (directory down) tempfails the message with its own reply", async () => {
      const h = await start(
        {
          rcpt: (a) =>
            a === "ldap@y"
              ? { ok: false, reply: { code: 451, enhanced: "4.4.3", text: "Directory unavailable" } }
              : { ok: true },
        },
        noWait,
      );
      const c = await open(h);
      await greetNoWait(c);
      expect(await send(c, ["b@y", "ldap@y"])).toEqual(["y 451 4.4.3 Directory unavailable"]);
    });

    it("MAIL: the message gets MAIL's reply; the connection goes on", async () => {
      const h = await start(refuseAt("mail", "a@x"), noWait);
      const c = await open(h);
      await greetNoWait(c);
      expect(await send(c, ["b@y"])).toEqual(["y 550 5.7.1 refused at mail"]);
      expect(h.sessions[0]!.calls.filter((x) => x.call === "rcpt")).toEqual([]);
    });

    it("CONNECT: every message of the SMTP session is refused, a MAIL that waits gets it at once", async () => {
      const refused = { code: 550, enhanced: "5.7.1", text: "refused at connect" };
      const h = await start(
        { connect: (info) => (info.address === "192.0.2.1" ? { ok: false, reply: refused } : { ok: true }) },
        { wanted: wantedFor({ answer: new Set<EnvelopeStage>(["mail"]), filters: [] }) },
      );
      const c = await open(h);
      await greetNoWait(c);
      c.send(mta.mail("<a@x>"));
      expect((await c.next())!.strings[0]).toBe("550 5.7.1 refused at connect");
      c.send(mta.abort(), mta.mail("<a@x>"), mta.rcpt("<b@y>"), mta.body("x"), mta.eom());
      expect((await c.next())!.code).toBe("y");
      expect((await c.untilFinal()).map((r) => r.strings[0])).toEqual(["550 5.7.1 refused at connect"]);
      // QUIT_NC starts a new SMTP session: nothing carried over.
      c.send(mta.quitNc(), mta.connect("h2", "4", 1, "192.0.2.2"), mta.mail("<a@x>"));
      expect((await c.next())!.code).toBe("c");
      c.send(mta.rcpt("<b@y>"), mta.body("x"), mta.eom());
      expect((await c.untilFinal()).map((r) => r.code)).toEqual(["c"]);
    });
  });

  it("hands the header section to the intake in one write", async () => {
    const writes: number[] = [];
    const h = await start();
    const newSession = h.server["opts"].newSession;
    h.server["opts"].newSession = () => {
      const s = newSession();
      const begin = s.beginData.bind(s);
      s.beginData = () => {
        const w = begin();
        const write = w.write.bind(w);
        w.write = (chunk: Buffer) => (writes.push(chunk.length), write(chunk));
        return w;
      };
      return s;
    };
    const c = await open(h);
    await greet(c);
    expect(await message(c, ["b@y"], "body\r\n")).toEqual(["c"]);
    // "From: a@example.org\r\nSubject: hi\r\n\r\n", then the body chunk.
    expect(writes).toEqual([36, 6]);
  });

  it("with RCPT_REJ, recipients the MTA rejected are not given to the session", async () => {
    const h = await start(
      {},
      { wanted: { ...DEFAULT_WANTED, optionalProtocol: DEFAULT_WANTED.optionalProtocol | Proto.RCPT_REJ } },
    );
    const c = await open(h);
    await greet(c);
    c.send(mta.mail("<a@x>"));
    await c.next();
    c.send(
      mta.macro(Cmd.RCPT, { "{rcpt_mailer}": "error", "{rcpt_addr}": "550 5.1.1 unknown" }),
      mta.rcpt("<bad@y>"),
    );
    expect((await c.next())!.code).toBe("c");
    c.send(mta.macro(Cmd.RCPT, { "{rcpt_mailer}": "smtp" }), mta.rcpt("<good@y>"));
    expect((await c.next())!.code).toBe("c");
    expect(
      h.sessions[0]!.calls.filter((x) => x.call === "rcpt").map((x) => x.call === "rcpt" && x.address),
    ).toEqual(["good@y"]);
  });

  it("sends PROGRESS while a slow data() runs", async () => {
    const h = await start(
      {
        data: async (tx) => {
          await new Promise((r) => setTimeout(r, 400));
          return { reply: null, verdicts: [], groups: [grp(tx.envelope.recipients.map((r) => r.address))] };
        },
      },
      { progressIntervalMs: 50 },
    );
    const c = await open(h);
    await greet(c);
    c.send(mta.mail("<a@x>"), mta.rcpt("<b@y>"));
    await c.next();
    await c.next();
    c.send(mta.eoh(), mta.eom("x"));
    const codes: string[] = [];
    for (;;) {
      const r = (await c.next(5000, true))!;
      codes.push(r.code);
      if (r.code !== "p") break;
    }
    expect(codes.filter((x) => x === "p").length).toBeGreaterThanOrEqual(3);
    expect(codes.at(-1)).toBe("c");
  });

  it("an oversized message: SKIP the rest of the body, then the intake error's reply at EOM", async () => {
    const wanted = { ...DEFAULT_WANTED, optionalProtocol: DEFAULT_WANTED.optionalProtocol & ~Proto.NR_BODY };
    const h = await start({}, { wanted }, { ...DEFAULT_INTAKE, maxMessageBytes: 100 });
    const c = await open(h);
    await greet(c);
    c.send(mta.mail("<a@x>"), mta.rcpt("<b@y>"));
    await c.next();
    await c.next();
    c.send(mta.header("Subject", " big"), mta.eoh(), mta.body("x".repeat(50)));
    expect((await c.next())!.code).toBe("c");
    c.send(mta.body("y".repeat(100)));
    expect((await c.next())!.code).toBe("s");
    c.send(mta.eom());
    expect((await c.untilFinal()).map((r) => r.strings[0])).toEqual([
      "552 5.3.4 message exceeds the limit of 100 bytes",
    ]);
    expect(h.sessions[0]!.calls.filter((x) => x.call === "data")).toHaveLength(0);
    // The connection is still in step: the next (small) message goes through.
    expect(await message(c, ["b@y"])).toEqual(["c"]);
    expect(h.sessions[0]!.calls.filter((x) => x.call === "data")).toHaveLength(1);
  });

  it("{daemon_name} selects the ingress the pipeline sees", async () => {
    const h = await start({}, { daemonIngress: { submission: "submission" } });
    for (const daemon of ["submission", "smtpd"]) {
      const c = await open(h);
      c.send(
        mta.optneg(),
        mta.macro(Cmd.CONNECT, { "{daemon_name}": daemon }),
        mta.connect("h", "4", 1, "192.0.2.1"),
      );
      await c.next();
      expect((await c.next())!.code).toBe("c");
    }
    expect(h.sessions.map((s) => s.calls[0]!.call === "connect" && s.calls[0]!.info.ingress)).toEqual([
      "submission",
      "milter",
    ]);
  });

  it("an unknown client family takes address and port from the macros", async () => {
    const h = await start();
    const c = await open(h);
    c.send(
      mta.optneg(),
      mta.macro(Cmd.CONNECT, { "{client_addr}": "198.51.100.4", "{client_port}": "4711" }),
    );
    c.send(mta.connect("unknown", "U"));
    await c.next();
    expect((await c.next())!.code).toBe("c");
    expect(h.sessions[0]!.calls[0]).toEqual({
      call: "connect",
      info: { ingress: "milter", address: "198.51.100.4", port: 4711, localName: "localhost" },
    });
  });

  it("a failing session call answers tempfail and keeps the connection", async () => {
    const h = await start({
      helo: () => {
        throw new Error("directory down");
      },
    });
    const c = await open(h);
    c.send(mta.optneg(), mta.connect("h", "U"));
    await c.next();
    await c.next();
    c.send(mta.helo("x"));
    expect((await c.next())!.code).toBe("t");
    c.send(mta.mail("<a@x>"));
    expect((await c.next())!.code).toBe("c");
  });

  const malformed: [string, Buffer[], string][] = [
    ["oversize length", [Buffer.from([0x00, 0x10, 0x00, 0x00, 0x42])], "oversize"],
    ["length zero", [Buffer.from([0, 0, 0, 0])], "bad-length"],
    ["unknown command", [frame(0x5a, Buffer.from("x"))], "unknown-command"],
    ["truncated CONNECT", [frame(Cmd.CONNECT, Buffer.from("host\x004"))], "truncated"],
    ["RCPT before MAIL", [mta.rcpt("<b@y>")], "out-of-order"],
    ["body before MAIL", [mta.body("x")], "out-of-order"],
    ["second OPTNEG", [mta.optneg()], "out-of-order"],
  ];
  for (const [name, packets, reason] of malformed) {
    it(`closes cleanly on ${name} and keeps serving others`, async () => {
      const h = await start();
      const c = await open(h);
      await greet(c);
      c.send(...packets);
      expect(await c.waitClosed()).toBe(true);
      await new Promise((r) => setTimeout(r, 20));
      expect(h.logs.some((l) => l.reason === reason && l.msg === "milter protocol error, closing")).toBe(
        true,
      );
      expect(h.sessions[0]!.calls.at(-1)!.call).toBe("close");
      const c2 = await open(h);
      await greet(c2);
      expect(await message(c2, ["b@y"])).toEqual(["c"]);
    });
  }

  it("refuses commands before OPTNEG", async () => {
    const h = await start();
    const c = await open(h);
    c.send(mta.connect("h", "U"));
    expect(await c.waitClosed()).toBe(true);
  });

  it("serves many MTA connections at once", async () => {
    const h = await start({
      data: async (tx) => {
        await new Promise((r) => setTimeout(r, 20));
        return { reply: null, verdicts: [], groups: [grp(tx.envelope.recipients.map((r) => r.address))] };
      },
    });
    const results = await Promise.all(
      Array.from({ length: 25 }, async (_, i) => {
        const c = await open(h);
        await greet(c);
        const out = [];
        for (let m = 0; m < 3; m++) out.push(...(await message(c, [`r${i}@y`], `msg ${i}.${m}\r\n`)));
        return out;
      }),
    );
    expect(results.flat().every((r) => r === "c")).toBe(true);
    expect(h.sessions).toHaveLength(25);
    const bodies = h.sessions.flatMap((s) => s.messages().map((m) => m.toString().split("\r\n\r\n")[1]));
    expect(new Set(bodies).size).toBe(75);
  });

  it("streams a large body in chunks without replies and without losing bytes", async () => {
    const h = await start();
    const c = await open(h);
    await greet(c);
    c.send(mta.mail("<a@x>"), mta.rcpt("<b@y>"));
    await c.next();
    await c.next();
    c.send(mta.header("Subject", " big"), mta.eoh());
    const line = Buffer.from("0123456789".repeat(7) + "\r\n");
    const chunk = Buffer.concat(Array.from({ length: 900 }, () => line));
    // NR_BODY: 2.5 MB arrive without waiting; the server pauses reading instead of queueing it all.
    for (let i = 0; i < 40; i++) c.send(mta.body(chunk));
    c.send(mta.eom());
    expect((await c.untilFinal()).map((r) => r.code)).toEqual(["c"]);
    expect(h.sessions[0]!.messages()[0]!.length).toBe("Subject: big\r\n\r\n".length + 40 * chunk.length);
  });

  it("close() lets the message in flight finish, then closes the connection", async () => {
    const h = await start({
      data: async (tx) => {
        await new Promise((r) => setTimeout(r, 200));
        return { reply: null, verdicts: [], groups: [grp(tx.envelope.recipients.map((r) => r.address))] };
      },
    });
    const c = await open(h);
    await greet(c);
    c.send(mta.mail("<a@x>"), mta.rcpt("<b@y>"));
    await c.next();
    await c.next();
    c.send(mta.eoh(), mta.eom("x"));
    await new Promise((r) => setTimeout(r, 50));
    const closing = h.server.close();
    expect((await c.untilFinal()).map((r) => r.code)).toEqual(["c"]);
    await closing;
    expect(await c.waitClosed()).toBe(true);
    expect(h.server.connectionCount).toBe(0);
  });

  it("listens on a unix socket and replaces a stale socket file", async () => {
    const path = join(tmpdir(), `sluice-milter-${process.pid}-${Date.now()}.sock`);
    const first = new MilterServer({ ...(await start()).server["opts"] });
    await first.listen(`unix:${path}`);
    await expect(new MilterServer({ ...first["opts"] }).listen(`unix:${path}`)).rejects.toThrow(/in use/);
    const c = await TestMta.open(path);
    clients.push(c);
    // No Nagle on a unix socket: DATA is neither sent nor answered there.
    c.send(mta.optneg(6, 0x1ff, 0x1fffff));
    const o = (await c.next())!;
    expect(o.code).toBe("O");
    expect(o.data.readUInt32BE(8)).toBe(DEFAULT_WANTED.optionalProtocol);
    expect(o.data.readUInt32BE(8) & Proto.NODATA).toBe(Proto.NODATA);
    c.close();
    await first.close();
  });
});

function grp(recipients: string[]): OutcomeGroup {
  return {
    recipients,
    disposition: "deliver",
    edits: [],
    bcc: [],
    redirect: null,
    reason: null,
    holdMinutes: null,
  };
}
