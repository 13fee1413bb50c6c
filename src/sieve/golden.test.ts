// Golden files: every fixtures/golden/NAME.sieve runs against NAME.json's message and environment and
// must produce exactly its expected result (or exactly its expected compile errors).
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compileSieve } from "./compile.ts";
import { SieveCompileError } from "./errors.ts";
import { fakeEnv, type FakeEnvOptions } from "./environment.fake.ts";
import { runSieve } from "./index.ts";

interface Golden {
  message?: string[];
  env?: FakeEnvOptions & { now?: string };
  expect?: unknown;
  errors?: unknown[];
}

const dir = new URL("./fixtures/golden/", import.meta.url);
const names = readdirSync(dir)
  .filter((f) => f.endsWith(".sieve"))
  .map((f) => f.slice(0, -".sieve".length));

describe("golden fixtures", () => {
  it("has fixtures", () => {
    expect(names.length).toBeGreaterThanOrEqual(4);
  });

  it.each(names)("%s", (name) => {
    const source = readFileSync(new URL(`${name}.sieve`, dir), "utf8");
    const golden = JSON.parse(readFileSync(new URL(`${name}.json`, dir), "utf8")) as Golden;
    if (golden.errors) {
      let diagnostics: unknown;
      try {
        compileSieve(source, { name });
      } catch (err) {
        if (!(err instanceof SieveCompileError)) throw err;
        diagnostics = err.diagnostics;
      }
      expect(diagnostics).toEqual(golden.errors);
      return;
    }
    const { now, ...env } = golden.env ?? {};
    const message = (golden.message ?? []).join("\r\n");
    const result = runSieve(
      compileSieve(source, { name }),
      fakeEnv(message, { ...env, now: now ? new Date(now) : undefined }),
    );
    const { steps: _steps, ...observable } = result;
    expect(observable).toEqual(golden.expect);
  });
});
