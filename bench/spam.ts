// Side-by-side spam benchmark, one run, three views. Never in npm test.
//  (a) dev split: the SpamAssassin corpus TEST split, engines trained on its TRAIN split;
//  (b) second site: the same engines (trained only on the SpamAssassin corpus) score
//      ../shared/testdata/csdmc2010 — another site, eight years later; Sluice also through the
//      whole pipeline with its default thresholds (tag 5, quarantine 10, reject 20);
//  (c) online feedback on the second site in delivery order: classify, then learn the true label.
// Sluice's rows use the shipped model (models/spam-default.model.gz; --rebuild builds it here
// from TRAIN with the same code as scripts/build-spam-model.ts). CPU is per message.
// Run: node_modules/.bin/node bench/spam.ts [--no-engines] [--no-online-engines] [--rebuild]
//        [--classifier '{"spam_scale":4}'] (spam-classifier options for the pipeline rows)
import { readFileSync } from "node:fs";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { FeatureSet } from "../src/filters/spam/features.ts";
import { DEFAULT_LEARN } from "../src/filters/spam/learner.ts";
import { inputFromBytes } from "../src/filters/spam/message-input.ts";
import {
  loadCorpus,
  loadSite,
  rates,
  readCorpusMessage,
  recallAtFpr,
  rocAuc,
  type Scored,
} from "../src/filters/spam/evaluation.ts";
import { tokenize, type TokenizerInput } from "../src/filters/spam/tokenizer.ts";
import { buildModel, exampleOf } from "../src/filters/spam/train.ts";
import { SpamModel } from "../src/filters/spam/model.ts";
import { applyLesson, lessonFeatures } from "../src/filters/spam/lesson.ts";
import { DEFAULT_MODEL_PATH } from "../src/filters/spam/classifier.ts";
import { scanFile } from "../src/cli/scan.ts";
import { Runtime } from "../src/runtime.ts";
import { spamdMissing } from "../test/helpers/spamd.ts";
import { rspamdMissing } from "../test/helpers/rspamd.ts";
import { runRspamd, runSpamAssassin, type EngineRun, type Labelled } from "./spam-engines.ts";

const argv = process.argv.slice(2);
const args = new Set(argv);
const classifierOptions = argv.includes("--classifier") ? argv[argv.indexOf("--classifier") + 1]! : "{}";
const THRESHOLDS = { tag: 5, quarantine: 10, reject: 20 };

interface Msg extends Labelled {
  path: string;
  input: TokenizerInput;
}

const log = (s: string) => console.log(s);
const corpus = loadCorpus();
const load = async (path: string, raw: Buffer, spam: boolean): Promise<Msg> => ({
  path,
  raw,
  spam,
  input: await inputFromBytes(raw),
});
const t0 = performance.now();
const train: Msg[] = [];
const test: Msg[] = [];
for (const m of corpus)
  (m.split === "train" ? train : test).push(await load(m.path, readCorpusMessage(m), m.spam));
const site: Msg[] = [];
for (const m of loadSite()) site.push(await load(m.path, readFileSync(m.path), m.spam));
const parseMs = (performance.now() - t0) / (train.length + test.length + site.length);
const count = (xs: Labelled[]) =>
  `${xs.filter((x) => x.spam).length} spam / ${xs.filter((x) => !x.spam).length} ham`;
log(
  `TRAIN ${count(train)}, TEST ${count(test)}, second site ${count(site)}; MIME parse ${parseMs.toFixed(2)} ms/msg`,
);

// Delivery order of the second site: arrival (topmost Received), then Date, then file name.
const arrival = (m: Msg) => {
  const date = m.input.headers.find((h) => h.name.toLowerCase() === "date")?.value;
  return m.input.receivedAt ?? (date ? Date.parse(date) : NaN);
};
const delivery = site
  .map((m, i) => ({ m, i, t: arrival(m) }))
  .sort((a, b) => (Number.isNaN(a.t) ? 0 : a.t) - (Number.isNaN(b.t) ? 0 : b.t) || a.i - b.i)
  .map((x) => x.m);

// ---- Sluice -------------------------------------------------------------------------------
const model = args.has("--rebuild") ? rebuild() : await SpamModel.load(DEFAULT_MODEL_PATH);
log(`Sluice model: ${model.meta.source}; calibration ${JSON.stringify(model.meta.calibration)}`);
const fs = new FeatureSet(model.meta.bits);

function rebuild(): SpamModel {
  const t = performance.now();
  const f = new FeatureSet(DEFAULT_LEARN.bits);
  const m = buildModel(
    train.map((x) => exampleOf(x.input, x.spam, f, DEFAULT_LEARN.maxChars)),
    { ...DEFAULT_LEARN, source: "bench rebuild from TRAIN" },
  );
  log(`Sluice: built from TRAIN in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return m;
}

/** Log-odds of each message and the classifier's CPU per message (tokenize + score; no MIME parse). */
function sluiceScores(set: Msg[], m: SpamModel): { scored: Scored[]; cpuMs: number } {
  const once = () =>
    set.map((x) => {
      fs.reset();
      const t = tokenize(x.input, { maxChars: m.meta.maxChars }, fs);
      return { score: m.score(fs, t.contentCount).logOdds, spam: x.spam };
    });
  once(); // warm up (JIT), as a serving node is
  const cpu0 = process.cpuUsage();
  const scored = once();
  const cpu = process.cpuUsage(cpu0);
  return { scored, cpuMs: (cpu.user + cpu.system) / 1000 / set.length };
}

/** Total score and action through the whole pipeline (scan), auth off (no DNS), one recipient. */
async function pipelineScores(set: Msg[]): Promise<{ scored: Scored[]; actions: Record<string, number>[] }> {
  const runtime = await Runtime.create({
    logger: pino({ level: "silent" }),
    store: "never",
    configText: `
store: "sqlite::memory:"
log: { level: silent }
policy:
  thresholds: { tag: ${THRESHOLDS.tag}, quarantine: ${THRESHOLDS.quarantine}, reject: ${THRESHOLDS.reject} }
  # An offline scan arrives "now", years after these messages' Date: DATE_PAST would fire on all
  # of them (in delivery it fires only on mail dated days before its arrival).
  scores: { DATE_PAST: 0 }
  filters:
    auth: { enabled: false }
    dkim_sign: { enabled: false }
    spam-classifier: { options: ${classifierOptions} }
`,
  });
  const scored: Scored[] = [];
  const actions: Record<string, number>[] = [{}, {}];
  try {
    for (const x of set) {
      const to = /[^\s<>,;"()]+@[^\s<>,;"()]+/.exec(
        x.input.headers.find((h) => /^(to|cc)$/i.test(h.name))?.value ?? "",
      )?.[0];
      const r = await scanFile(runtime, x.path, {
        rcpt: [to ?? "user@site.example"],
        ip: "192.0.2.1",
        helo: "mail.example",
        json: true,
        explain: false,
      });
      const v = r.recipients[0];
      scored.push({ score: v?.score ?? 0, spam: x.spam });
      const a = actions[x.spam ? 1 : 0]!;
      const act = v?.action ?? r.error ?? "error";
      a[act] = (a[act] ?? 0) + 1;
    }
  } finally {
    await runtime.close();
  }
  return { scored, actions };
}

function online(set: Msg[], start: SpamModel): { scored: Scored[]; cpuMs: number } {
  const m = start.clone();
  const scored: Scored[] = [];
  const cpu0 = process.cpuUsage();
  for (const x of set) {
    fs.reset();
    const t = tokenize(x.input, { maxChars: m.meta.maxChars }, fs);
    scored.push({ score: m.score(fs, t.contentCount).logOdds, spam: x.spam });
    applyLesson(m, lessonFeatures(fs, t.contentCount), x.spam ? "spam" : "ham");
  }
  const cpu = process.cpuUsage(cpu0);
  return { scored, cpuMs: (cpu.user + cpu.system) / 1000 / set.length };
}

/** Tokenize + score on 20 KB messages (each TEST message's headers, its text repeated). */
async function cpu20k(m: SpamModel): Promise<number> {
  const inputs: TokenizerInput[] = [];
  for (const x of test) inputs.push(await inputFromBytes(to20k(x.raw)));
  const cpu0 = process.cpuUsage();
  const rounds = 3;
  for (let r = 0; r < rounds; r++)
    for (const input of inputs) {
      fs.reset();
      const t = tokenize(input, { maxChars: m.meta.maxChars }, fs);
      m.score(fs, t.contentCount);
    }
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / 1000 / (rounds * inputs.length);
}

function to20k(raw: Buffer): Buffer {
  const text = raw.toString("latin1");
  const sep = text.search(/\r?\n\r?\n/);
  const head = text
    .slice(0, sep)
    .split(/\r?\n(?![ \t])/)
    .filter((l) => !/^(content-|mime-version)/i.test(l))
    .join("\n");
  let body = text.slice(sep).replace(/<[^>]+>/g, " ");
  if (body.trim().length === 0) body = "empty\n";
  let out = body;
  while (out.length < 20 * 1024) out += body;
  return Buffer.from(
    `${head}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\n\n${out.slice(0, 20 * 1024)}`,
    "latin1",
  );
}

const sTest = sluiceScores(test, model);
const sSite = sluiceScores(site, model);
log(
  `Sluice: classifier CPU ${sTest.cpuMs.toFixed(3)} ms/msg (TEST), ${sSite.cpuMs.toFixed(3)} ms/msg (second site)`,
);
const pTest = await pipelineScores(test);
const pSite = await pipelineScores(site);
if (args.has("--sluice-only")) {
  for (const [name, p] of [
    ["TEST", pTest],
    ["second site", pSite],
  ] as const) {
    const r = (t: number) => rates(p.scored, t);
    log(
      `${name}: 1-AUC ${((1 - rocAuc(p.scored)) * 100).toFixed(3)}% r@1% ${(recallAtFpr(p.scored, 0.01) * 100).toFixed(1)} r@0.1% ${(recallAtFpr(p.scored, 0.001) * 100).toFixed(1)}; ` +
        [5, 10, 20]
          .map((t) => `${t}: FPR ${(r(t).fpr * 100).toFixed(2)}% recall ${(r(t).recall * 100).toFixed(1)}%`)
          .join("; "),
    );
  }
  process.exit(0);
}
const sOnline = online(delivery, model);
const big = await cpu20k(model);
log(
  `Sluice: 20 KB messages: ${big.toFixed(3)} ms CPU/msg tokenize+score (${(1000 / big).toFixed(0)} msg/s on one core)`,
);

// ---- Engines ------------------------------------------------------------------------------
const engines: EngineRun[] = [];
if (!args.has("--no-engines")) {
  const onlineSet = args.has("--no-online-engines") ? null : delivery;
  const sa = spamdMissing();
  if (sa) log(`SpamAssassin skipped: ${sa}`);
  else engines.push(await runSpamAssassin(train, [test, site], onlineSet, log));
  const rs = rspamdMissing();
  if (rs) log(`Rspamd skipped: ${rs}`);
  else engines.push(await runRspamd(train, [test, site], onlineSet, log));
}

// ---- Report -------------------------------------------------------------------------------
const pct = (x: number, d = 1) => `${(x * 100).toFixed(d)}%`;
interface Row {
  engine: string;
  scored: Scored[];
  cpuMs: number;
  threshold?: { name: string; value: number }[];
}
function table(title: string, rows: Row[]): void {
  const cols = [
    "engine",
    "1-AUC",
    "recall @1% FPR",
    "recall @0.1% FPR",
    "CPU ms/msg",
    "at default thresholds",
  ];
  const data = rows.map((r) => [
    r.engine,
    pct(1 - rocAuc(r.scored), 3),
    pct(recallAtFpr(r.scored, 0.01)),
    pct(recallAtFpr(r.scored, 0.001)),
    r.cpuMs.toFixed(3),
    (r.threshold ?? [])
      .map((t) => {
        const x = rates(r.scored, t.value);
        return `${t.name} ${t.value}: FPR ${pct(x.fpr, 2)} recall ${pct(x.recall)}`;
      })
      .join("; "),
  ]);
  const w = cols.map((c, i) => Math.max(c.length, ...data.map((d) => d[i]!.length)));
  const line = (cells: string[]) => "| " + cells.map((c, i) => c.padEnd(w[i]!)).join(" | ") + " |";
  console.log(`\n${title}\n` + line(cols));
  console.log("|" + w.map((n) => "-".repeat(n + 2)).join("|") + "|");
  for (const d of data) console.log(line(d));
}
const sluiceThresholds = [
  { name: "tag", value: THRESHOLDS.tag },
  { name: "quarantine", value: THRESHOLDS.quarantine },
  { name: "reject", value: THRESHOLDS.reject },
];
const rowsFor = (set: 0 | 1, s: { scored: Scored[]; cpuMs: number }, p: { scored: Scored[] }): Row[] => [
  { engine: "Sluice (classifier log-odds)", scored: s.scored, cpuMs: s.cpuMs },
  { engine: "Sluice (pipeline total score)", scored: p.scored, cpuMs: s.cpuMs, threshold: sluiceThresholds },
  ...engines.map((e) => ({
    engine: e.engine,
    scored: e.sets[set]!,
    cpuMs: e.cpuMs[set]!,
    threshold: [{ name: "spam", value: e.threshold }],
  })),
];
table("(a) dev split: SpamAssassin corpus TEST", rowsFor(0, sTest, pTest));
table("(b) second site: csdmc2010, models trained only on the SpamAssassin corpus", rowsFor(1, sSite, pSite));
table("(c) second site online, delivery order: classify, then learn the true label", [
  { engine: "Sluice (lessons from the shipped model)", scored: sOnline.scored, cpuMs: sOnline.cpuMs },
  ...engines
    .filter((e) => e.online)
    .map((e) => ({
      engine: `${e.engine} (learn per message)`,
      scored: e.online!.scored,
      cpuMs: e.online!.cpuMs,
    })),
]);
const fmtActions = (a: Record<string, number>[]) =>
  `ham ${JSON.stringify(a[0])}, spam ${JSON.stringify(a[1])}`;
log(`\nSluice actions at default thresholds, TEST: ${fmtActions(pTest.actions)}`);
log(`Sluice actions at default thresholds, second site: ${fmtActions(pSite.actions)}`);
if (args.has("--dump")) {
  const dir = mkdtempSync(join(tmpdir(), "sluice-bench-"));
  writeFileSync(join(dir, "site-scores.json"), JSON.stringify({ sSite, pSite, engines }));
  log(`scores written to ${dir}`);
}
