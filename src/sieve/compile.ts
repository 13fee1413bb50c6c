// compileSieve: source text to a validated, reusable CompiledScript, or a SieveCompileError listing
// every problem found. Not evaluation (run.ts); a compiled script is immutable and safe to share.

import { SieveCompileError } from "./errors.ts";
import { resolveLimits, type SieveLimits } from "./limits.ts";
import { parse } from "./parser.ts";
import { DEFAULT_REGISTRY, type Registry } from "./registry.ts";
import type { CompiledRegex } from "./regex.ts";
import type { Node } from "./spec.ts";
import { validate } from "./validator.ts";

export interface CompileOptions {
  /** Shown in error messages, e.g. "tenant-a/policy.sieve". */
  name?: string;
  /** Compile-time limits (nesting depth, script length, regex program size); others apply at run. */
  limits?: Partial<SieveLimits>;
  /** Known RFC 6134 list names; when given, unknown constant :list names are compile errors. */
  knownLists?: (name: string) => boolean;
  /** Narrower or extended command set; defaults to every extension this library implements. */
  registry?: Registry;
}

export interface CompiledScript {
  readonly name: string;
  /** Extensions named in require, lower-cased. */
  readonly requires: ReadonlySet<string>;
  readonly commands: readonly Node[];
  readonly knownLists: ((name: string) => boolean) | undefined;
  readonly regexCache: Map<string, CompiledRegex>;
  readonly limits: SieveLimits;
}

export function compileSieve(source: string, options: CompileOptions = {}): CompiledScript {
  const limits = resolveLimits(options.limits);
  const name = options.name ?? "script";
  if (source.length > limits.maxScriptLength) {
    throw new SieveCompileError(
      [
        {
          line: 1,
          column: 1,
          message: `script is ${source.length} characters, limit is ${limits.maxScriptLength}`,
        },
      ],
      name,
    );
  }
  const parsed = parse(source, { maxNestingDepth: limits.maxNestingDepth });
  const checked = validate(parsed.commands, {
    registry: options.registry ?? DEFAULT_REGISTRY,
    limits,
    knownLists: options.knownLists,
  });
  const errors = [...parsed.errors, ...checked.errors].sort((a, b) => a.line - b.line || a.column - b.column);
  if (errors.length > 0) throw new SieveCompileError(errors, name);
  return {
    name,
    requires: checked.requires,
    commands: checked.commands,
    knownLists: options.knownLists,
    regexCache: checked.regexCache,
    limits,
  };
}
