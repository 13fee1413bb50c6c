// Sluice's Sieve library (RFC 5228 and the extensions listed in README.md): compile a script once,
// then run it per message and recipient. Pure: no I/O, no globals; the script is untrusted input and
// every run is bounded by SieveLimits. The message data it reads is trusted as given by the caller.

import type { SieveResult } from "./actions.ts";
import type { CompiledScript } from "./compile.ts";
import type { SieveEnvironment } from "./environment.ts";
import { execute } from "./interpreter.ts";
import type { SieveLimits } from "./limits.ts";

export { compileSieve } from "./compile.ts";
export type { CompiledScript, CompileOptions, IncludeResolver, ScriptUnit } from "./compile.ts";
export { buildMimeTree, allParts, type MimeTreePart, type MimeTreeLimits } from "./mime-tree.ts";
export { parseMailbox } from "./address.ts";
export {
  SieveCompileError,
  SieveRuntimeError,
  SieveLimitError,
  formatDiagnostic,
  formatWithScript,
} from "./errors.ts";
export type { SieveDiagnostic, SieveLimitName } from "./errors.ts";
export { DEFAULT_LIMITS } from "./limits.ts";
export type { SieveLimits } from "./limits.ts";
export type { SieveAction, SieveResult, HeaderEdit, NotifyTarget, EnotifyAction } from "./actions.ts";
export type { SieveEnvironment, SieveHeader, BodyTransform, SieveMimePart } from "./environment.ts";
export { DEFAULT_REGISTRY, ALL_EXTENSIONS, buildRegistry } from "./registry.ts";
export type { Registry } from "./registry.ts";
export type { Extension, CommandDef, TestDef } from "./spec.ts";

/**
 * Evaluates a compiled script for one recipient. Throws SieveRuntimeError (or its subclass
 * SieveLimitError) when the script fails or exceeds a limit; per RFC 5228 2.10.6 the caller should then
 * keep the message (and may report the error). Limits given here override the script's compile limits.
 */
export function runSieve(
  script: CompiledScript,
  env: SieveEnvironment,
  limits?: Partial<SieveLimits>,
): SieveResult {
  const effective = limits ? { ...script.limits, ...limits } : script.limits;
  return execute(script.commands, script, env, effective);
}
