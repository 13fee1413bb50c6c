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
import { RUNTIME_CASES, type RuntimeCase } from "./runtime-cases.ts";
import { fakeEnv } from "../environment.fake.ts";
import { runSieve } from "../index.ts";
import { chmodSync } from "node:fs";

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

/** Folders sieve-test would store the message in (its "Performed actions"), in order. */
function sieveTest(c: RuntimeCase, k: number): string[] {
  // sieve-test refuses to run as root: it drops to nobody, so everything it reads must be readable.
  const dir = join(root, `run-${k}`);
  mkdirSync(join(dir, "personal"), { recursive: true });
  mkdirSync(join(dir, "mail"), { recursive: true });
  chmodSync(root, 0o755);
  chmodSync(dir, 0o777);
  chmodSync(join(dir, "mail"), 0o777);
  for (const [n, s] of Object.entries(c.personal ?? {}))
    writeFileSync(join(dir, "personal", `${n}.sieve`), s);
  const conf = join(dir, "dovecot.conf");
  writeFileSync(
    conf,
    [
      `mail_location = maildir:${dir}/mail`,
      "mail_uid = 65534",
      "mail_gid = 65534",
      "first_valid_uid = 0",
      "first_valid_gid = 0",
      `plugin {\n  sieve = file:${dir}/personal\n  sieve_extensions = +editheader\n}`,
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "main.sieve"), c.script);
  writeFileSync(join(dir, "message.eml"), c.message);
  const out = execFileSync("sieve-test", ["-c", conf, join(dir, "main.sieve"), join(dir, "message.eml")], {
    encoding: "utf8",
    stdio: "pipe",
    env: { ...process.env, HOME: join(dir, "mail") },
  });
  return [...out.matchAll(/store message in folder: (.*)$/gm)].map((m) => (m[1] as string).trim());
}

function sluiceFolders(c: RuntimeCase): string[] {
  const script = compileSieve(c.script, {
    include: {
      resolve: (_l, name) => {
        const source = c.personal?.[name];
        return source === undefined ? null : { id: name, name, source };
      },
    },
  });
  return runSieve(script, fakeEnv(c.message)).actions.flatMap((a) =>
    a.type === "fileinto" ? [a.folder] : [],
  );
}

describe.skipIf(!available)("Pigeonhole sieve-test runs scripts as Sluice does", () => {
  it.each(RUNTIME_CASES.map((c, k) => [c.name, c, k] as const))("%s", (_name, c, k) => {
    expect(sluiceFolders(c)).toEqual(sieveTest(c, k));
  });
});

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
