// External engines for bench/spam.ts: SpamAssassin (spamd + sa-learn, TELL for online lessons)
// and Rspamd (Bayes in Redis), trained on the SpamAssassin corpus TRAIN split, then scoring
// any number of evaluation sets and, optionally, learning one set online in delivery order.
import { readFileSync } from "node:fs";
import type { Scored } from "../src/filters/spam/evaluation.ts";
import { spamdCheck, spamdTell } from "../src/filters/spam/spamc-client.ts";
import { rspamdCheck, rspamdLearn } from "../src/filters/spam/rspamd-client.ts";
import { startSpamd } from "../test/helpers/spamd.ts";
import { startRspamd } from "../test/helpers/rspamd.ts";

export interface Labelled {
  raw: Buffer;
  spam: boolean;
}

export interface EngineRun {
  engine: string;
  /** Scores per evaluation set (same order as given). */
  sets: Scored[][];
  /** CPU ms per scored message (whole process tree) per set. */
  cpuMs: number[];
  /** The default verdict threshold of the engine (its "spam" line). */
  threshold: number;
  online?: { scored: Scored[]; cpuMs: number };
  trainS: number;
  rssMb: number;
}

interface Engine {
  pid: number;
  check(raw: Buffer): Promise<number>;
  learn(raw: Buffer, spam: boolean): Promise<void>;
  close(): Promise<void>;
}

/** CPU seconds and peak RSS of a process tree (Linux /proc). */
export function treeStats(pid: number): { cpuS: number; rssMb: number } {
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
  e: Engine,
  items: readonly Labelled[],
  concurrency: number,
): Promise<{ scored: Scored[]; cpuMs: number }> {
  const scored: Scored[] = new Array(items.length);
  let next = 0;
  const before = treeStats(e.pid);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        scored[i] = { score: await e.check(items[i]!.raw), spam: items[i]!.spam };
      }
    }),
  );
  const after = treeStats(e.pid);
  return { scored, cpuMs: ((after.cpuS - before.cpuS) * 1000) / items.length };
}

async function run(
  name: string,
  threshold: number,
  start: () => Promise<Engine & { bulkLearn(spam: Buffer[], ham: Buffer[]): Promise<void> }>,
  train: readonly Labelled[],
  sets: readonly (readonly Labelled[])[],
  online: readonly Labelled[] | null,
  concurrency: number,
  log: (s: string) => void,
): Promise<EngineRun> {
  const t0 = performance.now();
  const e = await start();
  try {
    await e.bulkLearn(
      train.filter((m) => m.spam).map((m) => m.raw),
      train.filter((m) => !m.spam).map((m) => m.raw),
    );
    const trainS = (performance.now() - t0) / 1000;
    log(`${name}: started and trained on TRAIN in ${trainS.toFixed(0)} s`);
    const out: EngineRun = { engine: name, sets: [], cpuMs: [], threshold, trainS, rssMb: 0 };
    for (const set of sets) {
      const r = await scoreAll(e, set, concurrency);
      out.sets.push(r.scored);
      out.cpuMs.push(r.cpuMs);
      log(`${name}: scored ${set.length} messages (${r.cpuMs.toFixed(1)} ms CPU each)`);
    }
    if (online) {
      // Classify, then learn the true label, one message at a time in delivery order.
      const scored: Scored[] = [];
      const before = treeStats(e.pid);
      for (const m of online) {
        scored.push({ score: await e.check(m.raw), spam: m.spam });
        await e.learn(m.raw, m.spam);
      }
      const after = treeStats(e.pid);
      out.online = { scored, cpuMs: ((after.cpuS - before.cpuS) * 1000) / online.length };
      log(`${name}: online run done`);
    }
    out.rssMb = treeStats(e.pid).rssMb;
    return out;
  } finally {
    await e.close();
  }
}

export function runSpamAssassin(
  train: readonly Labelled[],
  sets: readonly (readonly Labelled[])[],
  online: readonly Labelled[] | null,
  log: (s: string) => void,
): Promise<EngineRun> {
  return run(
    "SpamAssassin 4 + Bayes",
    5,
    async () => {
      const sd = await startSpamd({ children: 2 });
      return {
        pid: sd.pid,
        check: async (raw) => (await spamdCheck(sd, raw, { timeoutMs: 120_000 })).score,
        learn: async (raw, spam) => {
          await spamdTell(sd, raw, spam ? "spam" : "ham", { timeoutMs: 120_000 });
        },
        bulkLearn: (spam, ham) => sd.learn(spam, ham),
        close: () => sd.close(),
      };
    },
    train,
    sets,
    online,
    2,
    log,
  );
}

export function runRspamd(
  train: readonly Labelled[],
  sets: readonly (readonly Labelled[])[],
  online: readonly Labelled[] | null,
  log: (s: string) => void,
): Promise<EngineRun> {
  return run(
    "Rspamd 3 + Bayes (redis)",
    6,
    async () => {
      const rs = await startRspamd();
      return {
        pid: rs.pid,
        check: async (raw) => (await rspamdCheck(rs.url, raw, {}, { timeoutMs: 60_000 })).score,
        learn: async (raw, spam) => {
          await rspamdLearn(rs.controllerUrl, raw, spam ? "spam" : "ham", { timeoutMs: 30_000 });
        },
        bulkLearn: (spam, ham) => rs.learn(spam, ham),
        close: () => rs.close(),
      };
    },
    train,
    sets,
    online,
    4,
    log,
  );
}
