// Model and learner tests: file round trip, version checks, and deterministic training.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FeatureSet } from "./features.ts";
import { DEFAULT_LEARN, learn, type Example } from "./learner.ts";
import { SpamModel } from "./model.ts";
import { tokenize } from "./tokenizer.ts";
import { SpamModelError } from "./errors.ts";
import { trainModel } from "./train.ts";

const SPAM = [
  "Buy cheap viagra now, limited offer, click here",
  "You won a free prize, claim your money now",
  "Cheap loans, no credit check, act now",
  "Lose weight fast with this miracle pill offer",
];
const HAM = [
  "Meeting notes from the design review are attached",
  "Can you look at the build failure on main before lunch",
  "The release is scheduled for Thursday after the review",
  "Thanks for the patch, I merged it into the branch",
];

function examples(bits: number): Example[] {
  const fs = new FeatureSet(bits);
  const ex = (text: string, spam: boolean): Example => {
    fs.reset();
    tokenize(
      {
        headers: [{ name: "Subject", value: text.slice(0, 20) }],
        text,
        html: null,
        attachments: [],
        earlier: [],
      },
      { maxChars: 1000 },
      fs,
    );
    return { indices: fs.snapshot(), spam };
  };
  return [...SPAM.map((t) => ex(t, true)), ...HAM.map((t) => ex(t, false))];
}

const opts = { ...DEFAULT_LEARN, bits: 16, epochs: 5 };

describe("model", () => {
  it("separates its training data and is deterministic for a seed", () => {
    const ex = examples(16);
    const a = learn(ex, opts);
    const b = learn(ex, opts);
    expect(Buffer.from(a.weights.buffer).equals(Buffer.from(b.weights.buffer))).toBe(true);
    expect(a.bias).toBe(b.bias);
    for (const e of ex) expect(a.probability(e.indices, e.indices.length) > 0.5).toBe(e.spam);
    const c = learn(ex, { ...opts, seed: 2 });
    expect(Buffer.from(a.weights.buffer).equals(Buffer.from(c.weights.buffer))).toBe(false);
  });

  it("round-trips through its file format", async () => {
    const ex = examples(16);
    const m = learn(ex, opts);
    const dir = mkdtempSync(join(tmpdir(), "spam-model-"));
    await m.save(join(dir, "m.gz"));
    const back = await SpamModel.load(join(dir, "m.gz"));
    expect(back.meta).toEqual({ ...m.meta, bias: m.bias });
    expect(Buffer.from(back.weights.buffer).equals(Buffer.from(m.weights.buffer))).toBe(true);
    for (const e of ex)
      expect(back.logit(e.indices, e.indices.length)).toBe(m.logit(e.indices, e.indices.length));
  });

  it("refuses files that are not models or are from another tokenizer", async () => {
    const dir = mkdtempSync(join(tmpdir(), "spam-model-"));
    writeFileSync(join(dir, "bad"), "hello");
    await expect(SpamModel.load(join(dir, "bad"))).rejects.toBeInstanceOf(SpamModelError);
    const m = learn(examples(12), { ...opts, bits: 12 });
    m.meta.tokenizer = 999;
    writeFileSync(join(dir, "old.gz"), m.toBuffer());
    await expect(SpamModel.load(join(dir, "old.gz"))).rejects.toThrow(/tokenizer 999/);
  });

  it("trains from a directory and an mbox with trainModel", async () => {
    const dir = mkdtempSync(join(tmpdir(), "spam-train-"));
    const spamDir = join(dir, "spam");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(spamDir, "cur"), { recursive: true });
    SPAM.forEach((t, i) => writeFileSync(join(spamDir, "cur", `${i}.eml`), `Subject: offer\n\n${t}\n`));
    const mbox = HAM.map(
      (t, i) => `From someone@example.org Mon Jan  1 00:00:0${i} 2024\nSubject: work\n\n${t}\n>From here\n`,
    ).join("\n");
    writeFileSync(join(dir, "ham.mbox"), mbox);
    const run = () =>
      trainModel({ spam: [spamDir], ham: [join(dir, "ham.mbox")], bits: 16, model: join(dir, "out.gz") });
    const a = await run();
    expect({ spam: a.spam, ham: a.ham }).toEqual({ spam: 4, ham: 4 });
    const b = await run();
    expect(a.model.toBuffer().equals(b.model.toBuffer())).toBe(true);
    expect((await SpamModel.load(join(dir, "out.gz"))).meta.trained).toMatchObject({ spam: 4, ham: 4 });
  });
});
