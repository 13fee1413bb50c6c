// Model and learner tests: file round trip, version checks, deterministic training, the
// calibration (honest log-odds, unsure on unfamiliar mail) and the classifier's continuous score.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FeatureSet } from "./features.ts";
import { plattFit } from "./calibration.ts";
import { symbolsFor } from "./classifier.ts";
import { DEFAULT_LEARN, learn, rng, type Example } from "./learner.ts";
import { calibrate, SpamModel } from "./model.ts";
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
    return { indices: fs.snapshot(), hashes: fs.snapshotHashes(), spam };
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

describe("calibrated score", () => {
  it("plattFit recovers the line that generated the labels", () => {
    const random = rng(7);
    const data = Array.from({ length: 20_000 }, () => {
      const z = (random() - 0.5) * 20;
      return { z, y: random() < 1 / (1 + Math.exp(-(0.4 * z - 1))) ? 1 : 0 };
    });
    const fit = plattFit(data);
    expect(fit.slope).toBeCloseTo(0.4, 1);
    expect(fit.intercept).toBeCloseTo(-1, 0);
  });

  it("leans to unsure (log-odds 0) as familiarity falls, and keeps the order of raw log-odds", () => {
    const c = { slope: 0.5, intercept: 0.2, unfamiliar: 0.2, familiar: 0.5 };
    expect(calibrate(c, 10, 0.9)).toBeCloseTo(5.2);
    expect(calibrate(c, 10, 0.35)).toBeCloseTo(2.6);
    expect(calibrate(c, 10, 0.1)).toBe(0);
    // Few known features: no opinion, however familiar they are.
    const counted = { ...c, fewKnown: 100, enoughKnown: 200 };
    expect(calibrate(counted, 10, 0.9, 50)).toBe(0);
    expect(calibrate(counted, 10, 0.9, 150)).toBeCloseTo(2.6);
    expect(calibrate(counted, 10, 0.9, 500)).toBeCloseTo(5.2);
    let prev = -Infinity;
    for (let z = -40; z <= 40; z += 0.5) {
      const x = calibrate(c, z, 0.8);
      expect(x).toBeGreaterThan(prev);
      prev = x;
    }
  });

  it("scores familiar mail by the model and unfamiliar mail as unsure", () => {
    const ex = examples(16);
    const m = learn(ex, { ...opts, ensemble: 1 });
    m.meta.calibration = { slope: 1, intercept: 0, unfamiliar: 0.2, familiar: 0.5 };
    const fs = new FeatureSet(16);
    const score = (text: string) => {
      fs.reset();
      tokenize({ headers: [], text, html: null, attachments: [], earlier: [] }, { maxChars: 1000 }, fs);
      return m.score(fs);
    };
    const known = score(SPAM[0]!);
    expect(known.familiarity).toBeGreaterThan(0.5);
    expect(known.logOdds).toBeGreaterThan(0);
    const strange = score("Zxqv plorth wibble quarn snerd blatt frimble gorp tazz vunk");
    expect(strange.familiarity).toBeLessThan(0.3);
    expect(Math.abs(strange.logOdds)).toBeLessThan(Math.abs(strange.raw) + 1e-9);
  });
});

describe("classifier symbol", () => {
  const o = {
    model: "",
    max_chars: 0,
    spam_scale: 5,
    ham_scale: 1,
    max_score: 50,
    spam_log_odds: 2,
    ham_log_odds: -2,
    signals: true,
  };
  const at = (logOdds: number) =>
    symbolsFor({ raw: logOdds, familiarity: 1, known: 500, logOdds, p: 1 / (1 + Math.exp(-logOdds)) }, o)[0]!;

  it("is continuous and strictly increasing in the log-odds over the whole threshold range", () => {
    let prev = -Infinity;
    for (let x = -9.99; x <= 9.99; x += 0.01) {
      const s = at(x).score;
      expect(s).toBeGreaterThan(prev);
      if (prev !== -Infinity) expect(s - prev).toBeLessThan(0.06);
      prev = s;
    }
    expect(at(3).name).toBe("BAYES_SPAM");
    expect(at(0.5).name).toBe("BAYES_UNSURE");
    expect(at(-3).name).toBe("BAYES_HAM");
    expect(at(1e6).score).toBe(50);
  });

  it("prints the log-odds with enough digits to rank near certainty", () => {
    const a = at(25.123456).detail!;
    const b = at(25.123457).detail!;
    expect(a).toMatch(/^log-odds=\+25\.123456 p=/);
    expect(a).not.toBe(b);
  });
});
