// Spam feedback (filters/spam/feedback.ts) unit tests: one lesson moves its message's log-odds by
// at most MAX_LOGIT_CHANGE (lesson.ts), and unauthenticated actors are refused.
// (Dedup, per-user caps and the shipped-model guard: test/integration/quarantine-learn.test.ts.)
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FeatureSet } from "./features.ts";
import { SpamFeedback } from "./feedback.ts";
import { MAX_LOGIT_CHANGE } from "./lesson.ts";
import { DEFAULT_LEARN, emptyModel, learn, type Example } from "./learner.ts";
import { inputFromBytes } from "./message-input.ts";
import { SpamModel } from "./model.ts";
import { tokenize } from "./tokenizer.ts";

const msg = (subject: string, body: string) =>
  Buffer.from(`From: a@example.org\r\nTo: b@example.net\r\nSubject: ${subject}\r\n\r\n${body}\r\n`);

async function features(model: SpamModel, raw: Buffer): Promise<Uint32Array> {
  const fs = new FeatureSet(model.meta.bits);
  fs.reset();
  tokenize(await inputFromBytes(raw), { maxChars: model.meta.maxChars }, fs);
  return fs.snapshot();
}

/** A small model trained on a few messages, saved to a fresh directory. */
async function smallModel(): Promise<string> {
  const base = emptyModel({ bits: 16, maxChars: 2000, source: "test" });
  const ex: Example[] = [];
  for (const [s, spam] of [
    [msg("cheap pills", "buy cheap pills now"), true],
    [msg("meeting", "notes from the meeting"), false],
  ] as const)
    ex.push({ indices: await features(base, s), spam });
  const model = learn(
    ex,
    { ...DEFAULT_LEARN, bits: 16, maxChars: 2000, epochs: 1, learningRate: 0.5, ensemble: 1 },
    base,
  );
  const path = join(mkdtempSync(join(tmpdir(), "spam-fb-")), "model.gz");
  await model.save(path);
  return path;
}

const NEWSLETTER = msg("Quarterly gardening digest", "tulip bulbs compost mulch pruning roses");

describe("SpamFeedback", () => {
  it("caps the change one lesson makes", async () => {
    const path = await smallModel();
    const before = await SpamModel.load(path);
    const x = await features(before, NEWSLETTER);
    const z0 = before.logit(x, x.length);
    expect(await new SpamFeedback().forModel(path).learn(NEWSLETTER, "spam", { user: "a@example.com" })).toBe(
      "learned",
    );
    const after = await SpamModel.load(path);
    const dz = after.logit(x, x.length) - z0;
    expect(dz).toBeGreaterThan(0);
    expect(dz).toBeLessThanOrEqual(MAX_LOGIT_CHANGE + 1e-4);
    // A huge-error lesson is still capped (the message is confidently ham to this model).
    const ham = msg("meeting", "notes from the meeting");
    const y = await features(after, ham);
    const y0 = after.logit(y, y.length);
    await new SpamFeedback().learn(path, ham, "spam", "b@example.com");
    const y1 = (await SpamModel.load(path)).logit(y, y.length);
    expect(y1 - y0).toBeLessThanOrEqual(MAX_LOGIT_CHANGE + 1e-4);
  });

  it("refuses feedback without an authenticated actor and leaves the model file alone", async () => {
    const path = await smallModel();
    const bytes = (await SpamModel.load(path)).toBuffer();
    const fb = new SpamFeedback();
    for (const user of ["", "  ", "anonymous", "Unauthenticated"])
      expect(await fb.learn(path, NEWSLETTER, "spam", user)).toBe("unauthenticated");
    expect((await SpamModel.load(path)).toBuffer().equals(bytes)).toBe(true);
  });
});
