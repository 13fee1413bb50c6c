// Real Rspamd (with its Redis): /checkv2 through our client and the rspamd filter, and Bayes
// learned through the controller with Learn-Type: bulk. Small corpus subset to keep CI fast.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rspamdFilter } from "../../src/filters/spam/rspamd.ts";
import { rspamdCheck } from "../../src/filters/spam/rspamd-client.ts";
import { SpamEngineError } from "../../src/filters/spam/errors.ts";
import { loadCorpus, readCorpusMessage } from "../../src/filters/spam/evaluation.ts";
import { rspamdMissing, startRspamd, type Rspamd } from "../helpers/rspamd.ts";
import { freePort } from "../helpers/spam-services.ts";
import type { FilterContext } from "../../src/pipeline/types.ts";

const missing = rspamdMissing();
if (missing) console.warn(`skipping Rspamd integration tests: ${missing}`);

describe.skipIf(missing !== null)("Rspamd", () => {
  let rspamd: Rspamd;
  const corpus = loadCorpus();
  const pick = (spam: boolean, split: "train" | "test", n: number) =>
    corpus
      .filter((m) => m.spam === spam && m.split === split)
      .slice(0, n)
      .map(readCorpusMessage);

  beforeAll(async () => {
    rspamd = await startRspamd({ minLearns: 10 });
    await rspamd.learn(pick(true, "train", 20), pick(false, "train", 20));
  }, 150_000);
  afterAll(async () => rspamd?.close());

  it("checks with /checkv2 and uses the Bayes learned in bulk", async () => {
    const r = await rspamdCheck(
      rspamd.url,
      pick(true, "test", 1)[0]!,
      { ip: "192.0.2.1" },
      { timeoutMs: 30_000 },
    );
    expect(typeof r.action).toBe("string");
    expect(r.symbols.some((s) => s.name === "BAYES_SPAM" || s.name === "BAYES_HAM")).toBe(true);
  });

  it("the filter returns RSPAMD_SCORE and symbols, maps reject when asked, skips big messages", async () => {
    const f = rspamdFilter();
    const raw = pick(true, "test", 2)[1]!;
    const res = await f.check(ctx(raw, f.parseOptions({ url: rspamd.url })));
    expect(res.symbols?.[0]?.name).toBe("RSPAMD_SCORE");
    expect((res.symbols ?? []).some((s) => s.name.startsWith("RSPAMD_") && s.name !== "RSPAMD_SCORE")).toBe(
      true,
    );
    const small = await f.check(ctx(raw, f.parseOptions({ url: rspamd.url, max_bytes: 10 })));
    expect(small.symbols?.[0]?.name).toBe("RSPAMD_SKIPPED_SIZE");
  });

  it("throws a typed error when Rspamd is unreachable", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    await expect(rspamdCheck(url, Buffer.from("x"), {}, { timeoutMs: 2000 })).rejects.toBeInstanceOf(
      SpamEngineError,
    );
  });
});

function ctx(raw: Buffer, options: Record<string, unknown>): FilterContext {
  const tx = { id: "T1", size: raw.length, spool: { buffer: async () => raw } };
  return {
    stage: "data",
    envelope: {
      client: { address: "192.0.2.1" },
      helo: "mail.example.org",
      mailFrom: { address: "a@example.org" },
      recipients: [],
    },
    tx,
    recipients: [{ address: "user@example.com" }],
    options,
    earlier: [],
    signal: new AbortController().signal,
    log: console,
  } as unknown as FilterContext;
}
