// Hard limits: hostile scripts and inputs stop cleanly with a SieveLimitError naming the limit.
import { describe, expect, it } from "vitest";
import { compileSieve } from "./compile.ts";
import { SieveLimitError, SieveRuntimeError } from "./errors.ts";
import { fakeEnv } from "./environment.fake.ts";
import { runSieve } from "./index.ts";
import type { SieveLimits } from "./limits.ts";
import { firstError, run } from "../../test/helpers/sieve.ts";

function limitHit(fn: () => unknown): SieveLimitError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SieveLimitError);
    expect(err).toBeInstanceOf(SieveRuntimeError);
    return err as SieveLimitError;
  }
  throw new Error("expected a SieveLimitError");
}

const timed = <T>(fn: () => T): [T | unknown, number] => {
  const start = performance.now();
  let out: unknown;
  try {
    out = fn();
  } catch (err) {
    out = err;
  }
  return [out, performance.now() - start];
};

describe("limits", () => {
  it("string doubling through variables stops at maxStringLength", () => {
    const src = 'require "variables"; set "a" "x";\n' + 'set "a" "${a}${a}";\n'.repeat(60);
    const [err, ms] = timed(() => run(src));
    expect(err).toBeInstanceOf(SieveLimitError);
    expect((err as SieveLimitError).limit).toBe("maxStringLength");
    expect((err as SieveLimitError).line).toBe(18); // 2^17 = 128 KiB > 64 KiB on the 17th doubling
    expect(ms).toBeLessThan(1000);
  });

  it("many rules times many values stop at maxSteps", () => {
    const rule = 'if header :contains "x-h" ["q", "w", "j", "k"] { keep; }\n';
    const headers = Array.from({ length: 200 }, (_, i) => `X-H: value ${i}`).join("\r\n");
    const script = compileSieve(rule.repeat(500));
    const e = limitHit(() => runSieve(script, fakeEnv(headers + "\r\n\r\nx"), { maxSteps: 10_000 }));
    expect(e.limit).toBe("maxSteps");
    expect(e.message).toMatch(/limit maxSteps \(10000\) exceeded/);
  });

  it("a pathological regex runs in linear time on re2js", () => {
    const src = 'require "regex"; if header :regex "subject" "(a*)*b" { discard; }';
    const long = "Subject: " + "a".repeat(100_000) + "\r\n\r\nx";
    const [result, ms] = timed(() => run(src, long));
    expect(result).toMatchObject({ actions: [], implicitKeep: true });
    expect(ms).toBeLessThan(3000);
  });

  it("regex input longer than maxRegexInputLength stops", () => {
    const src = 'require "regex"; if header :regex "subject" "(a*)*b" { discard; }';
    const e = limitHit(() =>
      run(src, "Subject: " + "a".repeat(5000) + "\r\n\r\nx", {}, { maxRegexInputLength: 1000 }),
    );
    expect(e.limit).toBe("maxRegexInputLength");
  });

  it("regex program size is capped at compile time and at run time", () => {
    expect(firstError('require "regex"; if header :regex "s" "a{1000}b{1000}c{1000}" { }')).toMatch(
      /too complex/,
    );
    const src =
      'require ["regex", "variables"]; set "p" "a{1000}b{1000}c{1000}"; if header :regex "subject" "${p}" { }';
    expect(limitHit(() => run(src)).limit).toBe("maxRegexProgramSize");
  });

  it("wildcards with many stars stay fast", () => {
    const src = 'if header :matches "subject" "*a*a*a*a*a*a*a*a*a*b" { discard; }';
    const [result, ms] = timed(() => run(src, "Subject: " + "a".repeat(50_000) + "\r\n\r\nx"));
    expect(result).toMatchObject({ actions: [] });
    expect(ms).toBeLessThan(2000);
  });

  it("nesting deeper than maxNestingDepth is a compile error", () => {
    const deep = "if true { ".repeat(10) + "keep;" + " }".repeat(10);
    expect(firstError(deep, { limits: { maxNestingDepth: 5 } })).toMatch(/nesting deeper than 5 levels/);
    expect(() => compileSieve(deep)).not.toThrow();
  });

  it("maxVariables, maxActions and maxListLength", () => {
    const vars =
      'require "variables";\n' + Array.from({ length: 20 }, (_, i) => `set "v${i}" "x";`).join("\n");
    expect(limitHit(() => run(vars, undefined, {}, { maxVariables: 10 })).limit).toBe("maxVariables");
    const files =
      'require "fileinto";\n' + Array.from({ length: 20 }, (_, i) => `fileinto "f${i}";`).join("\n");
    expect(limitHit(() => run(files, undefined, {}, { maxActions: 10 })).limit).toBe("maxActions");
    const redirects = Array.from({ length: 5 }, (_, i) => `redirect "u${i}@example.com";`).join("\n");
    expect(limitHit(() => run(redirects, undefined, {}, { maxRedirects: 4 })).limit).toBe("maxRedirects");
    expect(run(redirects, undefined, {}, { maxRedirects: 5 }).actions).toHaveLength(5);
    const list = `if header :is "subject" [${Array.from({ length: 20 }, (_, i) => `"k${i}"`).join(",")}] { }`;
    expect(limitHit(() => run(list, undefined, {}, { maxListLength: 10 })).limit).toBe("maxListLength");
    const headers = Array.from({ length: 20 }, () => "X-A: 1").join("\r\n") + "\r\n\r\nx";
    expect(limitHit(() => run('if exists "x-a" { }', headers, {}, { maxListLength: 10 })).limit).toBe(
      "maxListLength",
    );
  });

  it("the wall-clock budget is checked while running", () => {
    const rules = 'if header :contains "subject" "zzz" { keep; }\n'.repeat(1000);
    const limits: Partial<SieveLimits> = { maxMillis: -1 };
    expect(limitHit(() => run(rules, undefined, {}, limits)).limit).toBe("maxMillis");
  });

  it("run-time limits override compile-time ones and defaults are sane", () => {
    const script = compileSieve("keep; keep;", { limits: { maxSteps: 1 } });
    expect(() => runSieve(script, fakeEnv("S: x\r\n\r\n"))).toThrow(SieveLimitError);
    expect(runSieve(script, fakeEnv("S: x\r\n\r\n"), { maxSteps: 10 }).actions).toEqual([{ type: "keep" }]);
  });
});
