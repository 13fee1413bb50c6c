// Helpers shared by the Sieve unit tests: compile-and-run in one call, and compile-error capture.
// Not used by production code.

import type { SieveResult } from "../../src/sieve/actions.ts";
import { compileSieve, type CompileOptions } from "../../src/sieve/compile.ts";
import { SieveCompileError, type SieveDiagnostic } from "../../src/sieve/errors.ts";
import { fakeEnv, type FakeEnvOptions } from "../../src/sieve/environment.fake.ts";
import { runSieve } from "../../src/sieve/index.ts";
import type { SieveLimits } from "../../src/sieve/limits.ts";

export const PLAIN_MESSAGE = [
  "From: Coyote <coyote@desert.example.org>",
  "To: roadrunner@acme.example.com",
  "Subject: I have a present for you",
  "Date: Tue, 1 Apr 1997 09:06:31 -0800",
  "",
  "Look, I'm sorry about the whole anvil thing.",
  "",
].join("\r\n");

export function run(
  source: string,
  message: string = PLAIN_MESSAGE,
  env: FakeEnvOptions = {},
  limits?: Partial<SieveLimits>,
  compile: CompileOptions = {},
): SieveResult {
  return runSieve(compileSieve(source, compile), fakeEnv(message, env), limits);
}

/** The diagnostics of a script that must not compile; throws if it compiles. */
export function compileErrors(source: string, options: CompileOptions = {}): SieveDiagnostic[] {
  try {
    compileSieve(source, options);
  } catch (err) {
    if (err instanceof SieveCompileError) return err.diagnostics;
    throw err;
  }
  throw new Error("script compiled but was expected to fail:\n" + source);
}

/** "line:column: message" of the first diagnostic, the way users see it. */
export function firstError(source: string, options: CompileOptions = {}): string {
  const d = compileErrors(source, options)[0] as SieveDiagnostic;
  return `${d.line}:${d.column}: ${d.message}`;
}
