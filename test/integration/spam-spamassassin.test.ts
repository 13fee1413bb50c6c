// Real spamd: our spamc-protocol client checks (REPORT) and learns (TELL), and the spamassassin
// filter turns the result into symbols. Trains on a small corpus subset to keep CI fast.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spamassassinFilter } from "../../src/filters/spam/spamassassin.ts";
import { spamdCheck, spamdTell } from "../../src/filters/spam/spamc-client.ts";
import { SpamEngineError } from "../../src/filters/spam/errors.ts";
import { loadCorpus, readCorpusMessage } from "../../src/filters/spam/evaluation.ts";
import { spamdMissing, startSpamd, type Spamd } from "../helpers/spamd.ts";
import { freePort } from "../helpers/spam-services.ts";
import type { FilterContext } from "../../src/pipeline/types.ts";

const missing = spamdMissing();
if (missing) console.warn(`skipping SpamAssassin integration tests: ${missing}`);

describe.skipIf(missing !== null)("SpamAssassin spamd", () => {
  let spamd: Spamd;
  const corpus = loadCorpus();
  const pick = (spam: boolean, split: "train" | "test", n: number) =>
    corpus
      .filter((m) => m.spam === spam && m.split === split)
      .slice(0, n)
      .map(readCorpusMessage);

  beforeAll(async () => {
    spamd = await startSpamd({ children: 1, minLearned: 20 });
    await spamd.learn(pick(true, "train", 30), pick(false, "train", 30));
  }, 120_000);
  afterAll(async () => spamd?.close());

  it("reports score and rules, with Bayes trained by sa-learn", async () => {
    const r = await spamdCheck(spamd, pick(true, "test", 1)[0]!, { timeoutMs: 60_000 });
    expect(r.rules.length).toBeGreaterThan(0);
    expect(r.rules.some((x) => x.name.startsWith("BAYES_"))).toBe(true);
    expect(r.score).toBeCloseTo(
      r.rules.reduce((a, x) => a + x.score, 0),
      0,
    );
  });

  it("learns with TELL", async () => {
    const msg = Buffer.from("From: a@example.org\r\nSubject: unique tell test 8c1f\r\n\r\nlearn me once\r\n");
    expect(await spamdTell(spamd, msg, "spam", { timeoutMs: 60_000 })).toBe(true);
  });

  it("the filter returns SPAMASSASSIN_SCORE and SA_ rule symbols, and skips big messages", async () => {
    const f = spamassassinFilter();
    const options = f.parseOptions({ host: spamd.host, port: spamd.port });
    const raw = pick(true, "test", 2)[1]!;
    const res = await f.check(ctx(raw, options));
    const names = (res.symbols ?? []).map((s) => s.name);
    expect(names[0]).toBe("SPAMASSASSIN_SCORE");
    expect(names.some((n) => n.startsWith("SA_"))).toBe(true);
    const small = f.parseOptions({ host: spamd.host, port: spamd.port, max_bytes: 10 });
    expect((await f.check(ctx(raw, small))).symbols?.[0]?.name).toBe("SPAMASSASSIN_SKIPPED_SIZE");
  });

  it("throws a typed error when spamd is unreachable", async () => {
    const port = await freePort();
    await expect(
      spamdCheck({ host: "127.0.0.1", port }, Buffer.from("x"), { timeoutMs: 2000 }),
    ).rejects.toBeInstanceOf(SpamEngineError);
  });
});

function ctx(raw: Buffer, options: Record<string, unknown>): FilterContext {
  const tx = { size: raw.length, spool: { buffer: async () => raw } };
  return {
    stage: "data",
    envelope: { client: { address: "127.0.0.1" }, helo: "x", mailFrom: null, recipients: [] },
    tx,
    recipients: [],
    options,
    earlier: [],
    signal: new AbortController().signal,
    log: console,
  } as unknown as FilterContext;
}
