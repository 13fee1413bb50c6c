// Short, seeded smoke run of every fuzz target (npm test): a few seconds each, the same inputs
// every time, plus each target's recorded regressions. The long runs are `npm run fuzz`.
import { describe, expect, it } from "vitest";
import { runTarget, TARGETS } from "./targets.ts";

const RUNS = Number(process.env.SLUICE_FUZZ_SMOKE_RUNS ?? 300);

describe("fuzz smoke (seeded)", () => {
  for (const t of TARGETS) {
    it(
      t.name,
      async () => {
        const r = await runTarget(t, { runs: RUNS, seed: 17, timeLimitMs: 4000 });
        expect(r.failure).toBeNull();
        expect(r.runs).toBeGreaterThan(0);
      },
      30_000,
    );
  }
});
