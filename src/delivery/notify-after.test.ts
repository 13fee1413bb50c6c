import { describe, it, expect } from "vitest";
import pino from "pino";
import { Runtime } from "../runtime.ts";
import { Transaction } from "../message/transaction.ts";
import { emptyEnvelope } from "../message/envelope.ts";
import type { DataResult } from "../pipeline/session.ts";
import type { PolicyResolver } from "../policy/resolve.ts";
import { sendAfterCommit } from "./notify-after.ts";

async function setup() {
  const rt = await Runtime.create({
    configText: `policy:\n  filters:\n    virus: { enabled: true }\ntenants:\n  - id: e\n    domains: [example.com]\n    users: [{ address: bob@example.com }]\n`,
    store: "never",
    logger: pino({ level: "silent" }),
  });
  const env = emptyEnvelope("inbound");
  env.mailFrom = { address: "x@remote.org", params: {} };
  const tx = new Transaction(env);
  const w = tx.writer();
  await w.write(Buffer.from("From: x@remote.org\r\nSubject: invoice\r\n\r\nhi\r\n"));
  await w.end();
  let lookups = 0;
  const resolver = {
    forRecipient: (a: string) => {
      lookups++;
      return rt.resolver.forRecipient(a);
    },
    senderTenant: () => null,
  } as unknown as PolicyResolver;
  const sent: { from: string; to: string; message: Buffer }[] = [];
  const sender = {
    send: async (from: string, to: string, message: Buffer) => void sent.push({ from, to, message }),
  };
  return { tx, resolver, sent, sender, lookups: () => lookups };
}

const result = (symbols: { name: string; score: number; detail?: string }[]): DataResult => ({
  reply: null,
  groups: [],
  verdicts: [{ address: "bob@example.com", action: "quarantine", score: 0, symbols, trace: [] }],
  notifications: [],
});

describe("notifications after commit", () => {
  it("tells the recipient of a quarantined virus, from the null sender", async () => {
    const s = await setup();
    await sendAfterCommit(
      s.tx,
      result([{ name: "CLAMAV_VIRUS", score: 0, detail: "Eicar-Test" }]),
      () => "Q1",
      s.resolver,
      s.sender,
      pino({ level: "silent" }),
    );
    expect(s.sent.map((n) => [n.from, n.to])).toEqual([["", "bob@example.com"]]);
    expect(s.sent[0]!.message.toString()).toContain("Q1");
  });

  it("does not look up policies when nothing was found", async () => {
    const s = await setup();
    await sendAfterCommit(
      s.tx,
      result([{ name: "BAYES_HAM", score: -3 }]),
      () => null,
      s.resolver,
      s.sender,
      pino({ level: "silent" }),
    );
    expect(s.lookups()).toBe(0);
    expect(s.sent).toEqual([]);
  });
});
