import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { emptyEnvelope } from "../message/envelope.ts";
import { Transaction } from "../message/transaction.ts";
import type { DataResult, OutcomeGroup } from "../pipeline/session.ts";
import { SqliteStore } from "../store/sqlite.ts";
import { SmtpSink } from "../../test/helpers/sink.ts";
import { Routes } from "./nexthop/route.ts";
import { commitExtraCopies, ReinjectError } from "./reinject.ts";

const log = pino({ level: "silent" });
const sinks: SmtpSink[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(sinks.splice(0).map((s) => s.stop()));
  for (const s of servers.splice(0)) s.close();
});

async function tx(message: string, rcpts: string[] = []): Promise<Transaction> {
  const env = emptyEnvelope("milter");
  env.mailFrom = { address: "a@x.test", params: { BODY: "8BITMIME" } };
  env.recipients = rcpts.map((address) => ({ address, params: {} }));
  const t = new Transaction(env);
  const w = t.writer();
  // Split at awkward places to exercise chunk boundaries.
  const b = Buffer.from(message);
  for (let i = 0; i < b.length; i += 7) await w.write(b.subarray(i, i + 7));
  await w.end();
  return t;
}

const group = (over: Partial<OutcomeGroup>): OutcomeGroup => ({
  recipients: [],
  disposition: "deliver",
  edits: [],
  bcc: [],
  redirect: null,
  reason: null,
  holdMinutes: null,
  ...over,
});

const result = (verdicts: DataResult["verdicts"] = []): DataResult => ({ reply: null, groups: [], verdicts });

async function sinkHop() {
  const sink = new SmtpSink();
  sinks.push(sink);
  const port = await sink.start();
  return { sink, hop: new Routes("sluice.test", 10_000).hop(`smtp://127.0.0.1:${port}`) };
}

/** A next hop that refuses the listed recipients at RCPT. */
async function refusingHop(refuse: (rcpt: string) => boolean) {
  const srv = createServer((s) => {
    s.write("220 x\r\n");
    let data = false;
    s.on("data", (d) => {
      for (const line of String(d).split("\r\n").filter(Boolean)) {
        if (data) {
          if (line === ".") {
            data = false;
            s.write("250 ok\r\n");
          }
          continue;
        }
        const rcpt = /^RCPT TO:<([^>]*)>/i.exec(line);
        if (rcpt) s.write(refuse(rcpt[1]!) ? "550 5.1.1 no such user\r\n" : "250 ok\r\n");
        else if (/^DATA/i.test(line)) {
          data = true;
          s.write("354 go\r\n");
        } else if (/^EHLO/i.test(line)) s.write("250-x\r\n250 8BITMIME\r\n");
        else if (/^QUIT/i.test(line)) s.end("221 bye\r\n");
        else s.write("250 ok\r\n");
      }
    });
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  return new Routes("sluice.test", 10_000).hop(`smtp://127.0.0.1:${port}`);
}

async function store(): Promise<SqliteStore> {
  const s = new SqliteStore(join(mkdtempSync(join(tmpdir(), "sluice-reinject-")), "s.db"));
  await s.migrate();
  return s;
}

describe("milter re-injection (one delivery part with the proxy)", () => {
  it("a tagged subject replaces the Subject field: the copy has exactly one", async () => {
    const { sink, hop } = await sinkHop();
    const t = await tx("Received: one\r\nSubject: hi\r\nX-Old: 1\r\n\r\n.dot line\r\nend\r\n");
    await commitExtraCopies(
      t,
      result(),
      {
        store: [],
        reinject: [
          group({
            recipients: ["b@y.test"],
            bcc: ["c@y.test"],
            edits: [
              { op: "set", name: "Subject", value: "[SPAM] hi" },
              { op: "delete", name: "x-old" },
              { op: "add", name: "X-Spam-Flag", value: "YES" },
              { op: "add", name: "Authentication-Results", value: "mx; spf=pass", top: true },
            ],
          }),
        ],
      },
      { store: null, owner: () => null, hop, log },
    );
    const [m] = await sink.waitFor(1);
    expect(m!.from).toBe("a@x.test");
    expect(m!.to).toEqual(["b@y.test", "c@y.test"]);
    expect(m!.data.match(/^Subject:/gim)).toHaveLength(1);
    expect(m!.data).toBe(
      "Authentication-Results: mx; spf=pass\r\nReceived: one\r\nSubject: [SPAM] hi\r\nX-Spam-Flag: YES\r\n\r\n.dot line\r\nend\r\n",
    );
  });

  it("a refusal before anything left our hands tempfails and undoes the stored copies", async () => {
    const s = await store();
    const hop = await refusingHop(() => true);
    const t = await tx("Subject: hi\r\n\r\nx\r\n", ["q@acme.test", "b@y.test"]);
    await expect(
      commitExtraCopies(
        t,
        result(),
        {
          store: [group({ recipients: ["q@acme.test"], disposition: "quarantine", reason: "spam" })],
          reinject: [group({ recipients: ["b@y.test"] })],
        },
        { store: s, owner: () => "acme", hop, log },
      ),
    ).rejects.toThrow(ReinjectError);
    expect(await s.getQuarantine(t.id)).toBeNull();
  });

  it("a refusal after another copy was handed on is kept in the quarantine, never lost", async () => {
    const s = await store();
    const hop = await refusingHop((r) => r.startsWith("gone@"));
    const t = await tx("Subject: hi\r\n\r\nx\r\n", ["ok@y.test", "gone@y.test"]);
    const copies = await commitExtraCopies(
      t,
      result(),
      {
        store: [],
        reinject: [group({ recipients: ["ok@y.test"] }), group({ recipients: ["gone@y.test"] })],
      },
      { store: s, owner: () => "acme", hop, log },
    );
    expect(copies.map((c) => c.recipients)).toEqual([["gone@y.test"]]);
    const kept = await s.getQuarantine(copies[0]!.id);
    expect(kept?.recipients[0]?.reason).toMatch(/re-injection refused: 550 5\.1\.1/);
  });

  it("stored copies keep each recipient's score and symbols, one entry per tenant", async () => {
    const s = await store();
    const t = await tx("Subject: buy\r\n\r\nx\r\n", ["alice@acme.test", "gina@globex.test"]);
    const verdict = (address: string, score: number, name: string) => ({
      address,
      action: "quarantine",
      score,
      symbols: [{ name, score }],
      trace: [],
    });
    const copies = await commitExtraCopies(
      t,
      result([verdict("alice@acme.test", 14, "BAYES_SPAM"), verdict("gina@globex.test", 22, "RBL_HIT")]),
      {
        store: [
          group({
            recipients: ["alice@acme.test", "gina@globex.test"],
            disposition: "quarantine",
            reason: "spam",
          }),
        ],
        reinject: [],
      },
      { store: s, owner: (a) => a.split("@")[1]!.split(".")[0]!, hop: null, log },
    );
    expect(copies.map((c) => [c.tenant, c.recipients])).toEqual([
      ["acme", ["alice@acme.test"]],
      ["globex", ["gina@globex.test"]],
    ]);
    const acme = (await s.getQuarantine(copies[0]!.id))!;
    const globex = (await s.getQuarantine(copies[1]!.id))!;
    expect([acme.tenant, acme.score, acme.symbols.map((x) => x.name)]).toEqual(["acme", 14, ["BAYES_SPAM"]]);
    expect([globex.tenant, globex.score, globex.symbols.map((x) => x.name)]).toEqual([
      "globex",
      22,
      ["RBL_HIT"],
    ]);
    expect(acme.envelope.recipients.map((r) => r.address)).toEqual(["alice@acme.test"]);
    expect(globex.envelope.recipients.map((r) => r.address)).toEqual(["gina@globex.test"]);
  });
});
