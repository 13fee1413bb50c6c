// Sluice compiles exactly the conformance cases Pigeonhole compiles (cases.ts), and reports the
// problems Pigeonhole only warns about as warnings.
import { describe, expect, it } from "vitest";
import { compileSieve, type IncludeResolver } from "../compile.ts";
import { SieveCompileError } from "../errors.ts";
import { CASES, type ConformanceCase } from "./cases.ts";

export function resolverFor(c: ConformanceCase): IncludeResolver {
  return {
    resolve(location, name) {
      const source = (location === "global" ? c.global : c.personal)?.[name];
      return source === undefined ? null : { id: `${location}/${name}`, name: `${name}.sieve`, source };
    },
  };
}

function outcome(c: ConformanceCase): { result: "accept" | "refuse"; detail: string } {
  try {
    const s = compileSieve(c.script, { name: c.name, include: resolverFor(c) });
    return { result: "accept", detail: s.warnings.map((w) => w.message).join("; ") };
  } catch (err) {
    if (!(err instanceof SieveCompileError)) throw err;
    return { result: "refuse", detail: err.message };
  }
}

describe("agreement with Pigeonhole at compile time", () => {
  it.each(CASES.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    expect(outcome(c)).toMatchObject({ result: c.expect });
  });

  it("warns where Pigeonhole warns", () => {
    const byName = new Map(CASES.map((c) => [c.name, c]));
    for (const name of [
      "header invalid name",
      "exists invalid name",
      "deleteheader auto-submitted",
      "notify reserved from=",
      "notify no recipients",
    ]) {
      expect(outcome(byName.get(name)!).detail, name).not.toBe("");
    }
  });
});
