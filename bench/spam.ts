// Side-by-side spam benchmark on the SpamAssassin corpus split: Sluice's classifier, and
// SpamAssassin (spamd + sa-learn) and Rspamd (Bayes in Redis) when installed. Never in npm test.
// Run: node_modules/.bin/node bench/spam.ts [--no-engines]
import { readFileSync } from "node:fs";
import { FeatureSet } from "../src/filters/spam/features.ts";
import { DEFAULT_LEARN, learn, type Example } from "../src/filters/spam/learner.ts";
import { inputFromBytes } from "../src/filters/spam/message-input.ts";
import {
  loadCorpus,
  readCorpusMessage,
  recallAtFpr,
  rocAuc,
  type Scored,
} from "../src/filters/spam/evaluation.ts";
import { tokenize, type TokenizerInput } from "../src/filters/spam/tokenizer.ts";
import { featuresOf } from "../src/filters/spam/train.ts";
import { spamdCheck } from "../src/filters/spam/spamc-client.ts";
import { rspamdCheck } from "../src/filters/spam/rspamd-client.ts";
import { spamdMissing, startSpamd } from "../test/helpers/spamd.ts";
import { rspamdMissing, startRspamd } from "../test/helpers/rspamd.ts";

interface Row {
  engine: string;
  auc: number;
  r1: number;
  r0: number;
  perSec: string;
  cpuMs: number;
  rssMb: number;
  note: string;
}

const corpus = loadCorpus();
const train = corpus.filter((m) => m.split === "train");
const test = corpus.filter((m) => m.split === "test");
const trainBytes = train.map((m) => ({ raw: readCorpusMessage(m), spam: m.spam }));
const testBytes = test.map((m) => ({ raw: readCorpusMessage(m), spam: m.spam }));
const count = (xs: { spam: boolean }[]) =>
  `${xs.filter((x) => x.spam).length} spam / ${xs.filter((x) => !x.spam).length} ham`;
console.log(`TRAIN ${count(train)}, TEST ${count(test)}`);

const rows: Row[] = [];
rows.push(await benchSluice());
if (!process.argv.includes("--no-engines")) {
  const sa = spamdMissing();
  if (sa) console.log(`SpamAssassin skipped: ${sa}`);
  else {
    rows.push(await benchSpamAssassin());
    printTable(rows);
  }
  const rs = rspamdMissing();
  if (rs) console.log(`Rspamd skipped: ${rs}`);
  else rows.push(await benchRspamd());
}
printTable(rows);

function metrics(scored: Scored[]): Pick<Row, "auc" | "r1" | "r0"> {
  return { auc: rocAuc(scored), r1: recallAtFpr(scored, 0.01), r0: recallAtFpr(scored, 0.001) };
}

async function benchSluice(): Promise<Row> {
  const t0 = performance.now();
  const fs = new FeatureSet(DEFAULT_LEARN.bits);
  const examples: Example[] = [];
  for (const m of trainBytes)
    examples.push({ indices: await featuresOf(m.raw, fs, DEFAULT_LEARN.maxChars), spam: m.spam });
  const model = learn(examples, DEFAULT_LEARN);
  console.log(
    `Sluice: trained on ${examples.length} messages in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const inputs: TokenizerInput[] = [];
  const tParse = performance.now();
  for (const m of testBytes) inputs.push(await inputFromBytes(m.raw));
  const parseMs = performance.now() - tParse;
  const score = (input: TokenizerInput) => {
    fs.reset();
    tokenize(input, { maxChars: model.meta.maxChars }, fs);
    return model.logit(fs.indices, fs.count);
  };
  const scored = inputs.map((input, i) => ({ score: score(input), spam: testBytes[i]!.spam }));
  // Throughput on 20 KB messages: each TEST message's headers with its text repeated to 20 KB.
  const big = testBytes.map((m) => to20k(m.raw));
  const bigInputs: TokenizerInput[] = [];
  const tBigParse = performance.now();
  for (const raw of big) bigInputs.push(await inputFromBytes(raw));
  const bigParseMs = performance.now() - tBigParse;
  const cpu0 = process.cpuUsage();
  const tScore = performance.now();
  const rounds = 5;
  for (let r = 0; r < rounds; r++) for (const input of bigInputs) score(input);
  const scoreMs = (performance.now() - tScore) / (rounds * bigInputs.length);
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000 / (rounds * bigInputs.length);
  const avg = big.reduce((a, b) => a + b.length, 0) / big.length;
  console.log(
    `Sluice: 20 KB messages (avg ${(avg / 1024).toFixed(1)} KB): tokenize+score ${(1000 / scoreMs).toFixed(0)} msg/s; ` +
      `with MIME parsing (shared view, mailparser) ${(1000 / (scoreMs + bigParseMs / big.length)).toFixed(0)} msg/s; ` +
      `corpus TEST parse ${(parseMs / testBytes.length).toFixed(2)} ms/msg`,
  );
  return {
    engine: "Sluice classifier",
    ...metrics(scored),
    perSec: `${(1000 / scoreMs).toFixed(0)} (1 core)`,
    cpuMs,
    rssMb: process.resourceUsage().maxRSS / 1024,
    note: "20 KB msgs, tokenize+score; MIME parse not included",
  };
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

/** CPU seconds and peak RSS of a process tree (Linux /proc). */
function treeStats(pid: number): { cpuS: number; rssMb: number } {
  const tick = 100;
  let cpu = 0;
  let rss = 0;
  const visit = (p: number, root: boolean) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      cpu += Number(f[11]) + Number(f[12]) + (root ? Number(f[13]) + Number(f[14]) : 0);
      const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, "utf8"));
      rss += Number(hwm?.[1] ?? 0) / 1024;
      for (const t of readFileSync(`/proc/${p}/task/${p}/children`, "utf8")
        .trim()
        .split(/\s+/)
        .filter(Boolean)) {
        visit(Number(t), false);
      }
    } catch {
      // The process ended between listing and reading.
    }
  };
  visit(pid, true);
  return { cpuS: cpu / tick, rssMb: rss };
}

async function scoreAll(
  fn: (raw: Buffer) => Promise<number>,
  concurrency: number,
): Promise<{ scored: Scored[]; wallS: number }> {
  const scored: Scored[] = new Array(testBytes.length);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < testBytes.length) {
        const i = next++;
        scored[i] = { score: await fn(testBytes[i]!.raw), spam: testBytes[i]!.spam };
      }
    }),
  );
  return { scored, wallS: (performance.now() - t0) / 1000 };
}

async function benchSpamAssassin(): Promise<Row> {
  const t0 = performance.now();
  const sd = await startSpamd({ children: 2 });
  try {
    await sd.learn(
      trainBytes.filter((m) => m.spam).map((m) => m.raw),
      trainBytes.filter((m) => !m.spam).map((m) => m.raw),
    );
    console.log(
      `SpamAssassin: started and sa-learn'd TRAIN in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
    );
    const before = treeStats(sd.pid);
    const { scored, wallS } = await scoreAll(
      async (raw) => (await spamdCheck(sd, raw, { timeoutMs: 120_000 })).score,
      2,
    );
    const after = treeStats(sd.pid);
    return {
      engine: "SpamAssassin 4 + Bayes",
      ...metrics(scored),
      perSec: `${(testBytes.length / wallS).toFixed(1)} (2 children)`,
      cpuMs: ((after.cpuS - before.cpuS) * 1000) / testBytes.length,
      rssMb: after.rssMb,
      note: "corpus TEST msgs via spamc protocol, network tests off",
    };
  } finally {
    await sd.close();
  }
}

async function benchRspamd(): Promise<Row> {
  const t0 = performance.now();
  const rs = await startRspamd();
  try {
    await rs.learn(
      trainBytes.filter((m) => m.spam).map((m) => m.raw),
      trainBytes.filter((m) => !m.spam).map((m) => m.raw),
    );
    console.log(
      `Rspamd: started and learned TRAIN (bulk) in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
    );
    const before = treeStats(rs.pid);
    const { scored, wallS } = await scoreAll(
      async (raw) => (await rspamdCheck(rs.url, raw, {}, { timeoutMs: 60_000 })).score,
      4,
    );
    const after = treeStats(rs.pid);
    return {
      engine: "Rspamd 3 + Bayes (redis)",
      ...metrics(scored),
      perSec: `${(testBytes.length / wallS).toFixed(0)} (2 workers)`,
      cpuMs: ((after.cpuS - before.cpuS) * 1000) / testBytes.length,
      rssMb: after.rssMb,
      note: "corpus TEST msgs via /checkv2, DNS checks off",
    };
  } finally {
    await rs.close();
  }
}

function printTable(rs: Row[]): void {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const cols = [
    "engine",
    "ROC AUC",
    "recall at 1% FPR",
    "recall at 0 FP",
    "messages/s",
    "CPU ms/msg",
    "peak RSS MB",
    "note",
  ];
  const data = rs.map((r) => [
    r.engine,
    r.auc.toFixed(4),
    pct(r.r1),
    pct(r.r0),
    r.perSec,
    r.cpuMs.toFixed(2),
    r.rssMb.toFixed(0),
    r.note,
  ]);
  const w = cols.map((c, i) => Math.max(c.length, ...data.map((d) => d[i]!.length)));
  const line = (cells: string[]) => "| " + cells.map((c, i) => c.padEnd(w[i]!)).join(" | ") + " |";
  console.log("\n" + line(cols));
  console.log("|" + w.map((n) => "-".repeat(n + 2)).join("|") + "|");
  for (const d of data) console.log(line(d));
}
