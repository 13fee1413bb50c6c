// `npm run fuzz`: runs every fuzz target of test/fuzz/targets.ts for a number of inputs or a
// time, whichever ends first, and reports inputs, rate, memory and any counterexample (with the
// seed and path fast-check needs to replay it). Exit 1 if a target failed.
//
//   npm run fuzz -- [--target NAME]... [--runs N] [--seconds S] [--seed N]   (node --expose-gc)
//   defaults: every target, 1,000,000 inputs each, no time limit, a random seed (printed)
import { parseArgs } from "node:util";
import { runTarget, TARGETS } from "./targets.ts";

const { values } = parseArgs({
  options: {
    target: { type: "string", multiple: true },
    runs: { type: "string", default: "1000000" },
    seconds: { type: "string" },
    seed: { type: "string" },
  },
});
const runs = Number(values.runs);
const seconds = values.seconds === undefined ? undefined : Number(values.seconds);
const seed =
  values.seed === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(values.seed);
const chosen = values.target?.length ? TARGETS.filter((t) => values.target!.includes(t.name)) : TARGETS;
if (!chosen.length) {
  console.error(`no such target; targets: ${TARGETS.map((t) => t.name).join(", ")}`);
  process.exit(2);
}

const mb = (n: number) => `${(n / 1048576).toFixed(0)} MB`;
console.log(
  `seed ${seed}; ${runs.toLocaleString("en")} inputs per target${seconds ? ` or ${seconds} s` : ""}`,
);
console.log("target                 inputs      inputs/s   rss start  rss max  heap after gc  result");
let failed = 0;
for (const t of chosen) {
  global.gc?.();
  const start = process.memoryUsage().rss;
  let max = start;
  const r = await runTarget(t, {
    runs,
    seed,
    timeLimitMs: seconds ? seconds * 1000 : undefined,
    onProgress: () => {
      max = Math.max(max, process.memoryUsage().rss);
    },
  });
  max = Math.max(max, process.memoryUsage().rss);
  // Live heap once garbage is collected: what a leak would grow (RSS alone mostly shows V8's appetite).
  global.gc?.();
  const live = global.gc ? mb(process.memoryUsage().heapUsed) : "n/a";
  const rate = (r.runs / r.ms) * 1000;
  console.log(
    `${t.name.padEnd(22)} ${String(r.runs).padStart(9)} ${rate.toFixed(0).padStart(11)}  ${mb(start).padStart(9)} ${mb(max).padStart(8)} ${live.padStart(14)}  ${r.failure ? "FAILED" : "ok"}`,
  );
  if (r.failure) {
    failed++;
    // Counterexamples can be megabytes (long lines): the seed and path replay them in full.
    const shown = r.failure.replace(/(.)\1{40,}/g, (m, c: string) => `${c}…(×${m.length})`);
    console.log((shown.length > 4000 ? shown.slice(0, 4000) + " …" : shown).replace(/^/gm, "    "));
  }
}
process.exit(failed ? 1 : 0);
