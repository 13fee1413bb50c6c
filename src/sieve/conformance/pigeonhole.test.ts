// Runs Pigeonhole's own compiler (sievec, Debian package dovecot-sieve) over the conformance cases
// and checks it accepts and refuses exactly what cases.ts says, so the cases stay true to it.
// Skips with a message when sievec is missing, except under CI=true where that fails.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { compileSieve } from "../compile.ts";
import { CASES, type ConformanceCase } from "./cases.ts";
import { generatedScript } from "./generate.ts";

const available = spawnSync("sievec", ["-h"], { stdio: "ignore" }).error === undefined;
if (!available && process.env.CI === "true") {
  throw new Error("sievec not found: install the Debian packages dovecot-sieve and dovecot-core");
}
const root = available ? mkdtempSync(join(tmpdir(), "sluice-pigeonhole-")) : "";
afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

function sievec(c: ConformanceCase, k: number): "accept" | "refuse" {
  const dir = join(root, String(k));
  for (const sub of ["personal", "global"]) mkdirSync(join(dir, sub), { recursive: true });
  for (const [n, s] of Object.entries(c.personal ?? {}))
    writeFileSync(join(dir, "personal", `${n}.sieve`), s);
  for (const [n, s] of Object.entries(c.global ?? {})) writeFileSync(join(dir, "global", `${n}.sieve`), s);
  // A config of our own: no system Dovecot configuration is read or needed.
  const conf = join(dir, "dovecot.conf");
  writeFileSync(
    conf,
    `plugin {\n  sieve = file:${dir}/personal\n  sieve_global = ${dir}/global\n  sieve_extensions = +editheader\n}\n`,
  );
  writeFileSync(join(dir, "main.sieve"), c.script);
  try {
    execFileSync("sievec", ["-c", conf, join(dir, "main.sieve"), join(dir, "main.svbin")], { stdio: "pipe" });
    return "accept";
  } catch {
    return "refuse";
  }
}

describe.skipIf(!available)("Pigeonhole sievec agrees with the conformance cases", () => {
  it.each(CASES.map((c, k) => [c.name, c, k] as const))("%s", (_name, c, k) => {
    expect(sievec(c, k)).toBe(c.expect);
  });

  it("and with Sluice on 300 generated scripts (seeded)", { timeout: 120_000 }, () => {
    const differ: string[] = [];
    fc.sample(generatedScript, { numRuns: 300, seed: 24 }).forEach((script, k) => {
      let ours: "accept" | "refuse" = "accept";
      try {
        // Empty script locations, like the test configuration of sievec.
        compileSieve(script, { include: { resolve: () => null } });
      } catch {
        ours = "refuse";
      }
      const theirs = sievec({ name: `generated ${k}`, script, expect: ours }, 10_000 + k);
      if (theirs !== ours) differ.push(`Pigeonhole ${theirs}s, Sluice ${ours}s:\n${script}`);
    });
    expect(differ).toEqual([]);
  });
});

if (!available) {
  describe("Pigeonhole sievec", () => {
    it.skip("skipped: sievec not installed (Debian packages dovecot-sieve, dovecot-core)", () => {});
  });
}
