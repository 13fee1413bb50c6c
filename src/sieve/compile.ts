// compileSieve: source text to a validated, reusable CompiledScript, or a SieveCompileError listing
// every problem found. Included scripts (RFC 6609) are compiled with it, so one compile checks the
// whole set. Not evaluation (interpreter.ts); a compiled script is immutable and safe to share.

import { SieveCompileError, SieveSyntaxError, type SieveDiagnostic } from "./errors.ts";
import { resolveLimits, type SieveLimits } from "./limits.ts";
import { parse } from "./parser.ts";
import { DEFAULT_REGISTRY, type Registry } from "./registry.ts";
import type { CompiledRegex } from "./regex.ts";
import type { ExtensionOptions, IncludeRequest, Node } from "./spec.ts";
import { validate } from "./validator.ts";

/** Where include :personal / :global find scripts (RFC 6609 2). */
export interface IncludeResolver {
  /**
   * The script of that name at that location, or null when there is none. `id` identifies the script
   * (its path) for loop detection and :once; `name` is how diagnostics name it.
   */
  resolve(location: "personal" | "global", name: string): { id: string; name: string; source: string } | null;
}

export interface CompileOptions {
  /** Shown in error messages, e.g. "tenant-a/policy.sieve". */
  name?: string;
  /** Compile-time limits (nesting depth, script length, regex program size); others apply at run. */
  limits?: Partial<SieveLimits>;
  /** Known RFC 6134 list names; when given, unknown constant :list names are compile errors. */
  knownLists?: (name: string) => boolean;
  /** Narrower or extended command set; defaults to every extension this library implements. */
  registry?: Registry;
  /** Script locations for include; without it every include is a compile error. */
  include?: IncludeResolver;
  /** enotify: which mailto targets a script may notify (the tenant's allow-list). */
  notifyAllowed?: (address: string) => boolean;
}

/** One compiled script: the main one or an included one. */
export interface ScriptUnit {
  readonly id: string;
  readonly name: string;
  /** Extensions named in require, lower-cased. */
  readonly requires: ReadonlySet<string>;
  readonly commands: readonly Node[];
  readonly regexCache: Map<string, CompiledRegex>;
  /** Variables declared global in this script. */
  readonly globals: ReadonlySet<string>;
}

export interface CompiledScript extends ScriptUnit {
  readonly knownLists: ((name: string) => boolean) | undefined;
  readonly limits: SieveLimits;
  /** Included scripts by id. */
  readonly units: ReadonlyMap<string, ScriptUnit>;
  /** Every capability the registry offers (the ihave test). */
  readonly capabilities: ReadonlySet<string>;
  readonly extensions: ExtensionOptions;
  /** Compiled, but worth a look: e.g. an invalid header name that can never match. */
  readonly warnings: readonly SieveDiagnostic[];
}

// RFC 6609 leaves script names to the implementation; these are ManageSieve's (RFC 5804 1.6) rules
// plus no "/" so a name can never leave its directory.
const SCRIPT_NAME = /^[^\u0000-\u001f\u007f/\\]{1,255}$/;

class IncludeCompiler {
  readonly units = new Map<string, ScriptUnit>();
  readonly diagnostics: SieveDiagnostic[] = [];
  readonly warnings: SieveDiagnostic[] = [];
  private readonly failed = new Set<string>();
  private readonly stack: string[] = [];
  private readonly options: CompileOptions;
  private readonly limits: SieveLimits;

  constructor(options: CompileOptions, limits: SieveLimits) {
    this.options = options;
    this.limits = limits;
  }

  unit(source: string, id: string, name: string, included: boolean): ScriptUnit | null {
    const tag = (d: SieveDiagnostic): SieveDiagnostic => (included ? { ...d, script: name } : d);
    if (source.length > this.limits.maxScriptLength) {
      this.diagnostics.push(
        tag({
          line: 1,
          column: 1,
          message: `script is ${source.length} characters, limit is ${this.limits.maxScriptLength}`,
        }),
      );
      return null;
    }
    this.stack.push(id);
    try {
      const parsed = parse(source, { maxNestingDepth: this.limits.maxNestingDepth });
      const checked = validate(parsed.commands, {
        registry: this.options.registry ?? DEFAULT_REGISTRY,
        limits: this.limits,
        knownLists: this.options.knownLists,
        include: this.options.include ? (r) => this.include(r) : undefined,
        extensions: { notifyAllowed: this.options.notifyAllowed },
      });
      const errors = [...parsed.errors, ...checked.errors];
      this.diagnostics.push(...errors.map(tag));
      this.warnings.push(...checked.warnings.map(tag));
      if (errors.length > 0) return null;
      return {
        id,
        name,
        requires: checked.requires,
        commands: checked.commands,
        regexCache: checked.regexCache,
        globals: checked.globals,
      };
    } finally {
      this.stack.pop();
    }
  }

  private include(r: IncludeRequest): string | null {
    const fail = (message: string) => new SieveSyntaxError(r.pos.line, r.pos.column, message);
    if (!SCRIPT_NAME.test(r.name)) throw fail(`include: invalid script name "${r.name}"`);
    let found: ReturnType<IncludeResolver["resolve"]>;
    try {
      found = this.options.include?.resolve(r.location, r.name) ?? null;
    } catch (err) {
      // A resolver explains why a location is unavailable (not configured, unreadable …).
      throw fail(`include of ${r.location} script "${r.name}": ${(err as Error).message}`);
    }
    if (!found) {
      if (r.optional) return null;
      throw fail(`included ${r.location} script "${r.name}" does not exist`);
    }
    if (this.stack.includes(found.id)) {
      throw fail(`circular include of "${r.name}"`);
    }
    if (this.stack.length > this.limits.maxIncludeDepth) {
      throw fail(`include nesting is deeper than ${this.limits.maxIncludeDepth} levels`);
    }
    if (this.units.has(found.id)) return found.id;
    if (this.failed.has(found.id)) throw fail(`included script "${found.name}" has errors`);
    if (this.units.size >= this.limits.maxIncludedScripts) {
      throw fail(`more than ${this.limits.maxIncludedScripts} included scripts`);
    }
    const unit = this.unit(found.source, found.id, found.name, true);
    if (!unit) {
      this.failed.add(found.id);
      throw fail(`included script "${found.name}" has errors`);
    }
    this.units.set(found.id, unit);
    return found.id;
  }
}

export function compileSieve(source: string, options: CompileOptions = {}): CompiledScript {
  const limits = resolveLimits(options.limits);
  const name = options.name ?? "script";
  const compiler = new IncludeCompiler(options, limits);
  const main = compiler.unit(source, `main:${name}`, name, false);
  const order = (a: SieveDiagnostic, b: SieveDiagnostic) =>
    Number(a.script !== undefined) - Number(b.script !== undefined) ||
    (a.script ?? "").localeCompare(b.script ?? "") ||
    a.line - b.line ||
    a.column - b.column;
  const errors = compiler.diagnostics.sort(order);
  const warnings = compiler.warnings.sort(order);
  if (!main || errors.length > 0) throw new SieveCompileError(errors, name, warnings);
  const registry = options.registry ?? DEFAULT_REGISTRY;
  return {
    ...main,
    knownLists: options.knownLists,
    limits,
    units: compiler.units,
    capabilities: registry.capabilities,
    extensions: { notifyAllowed: options.notifyAllowed },
    warnings,
  };
}
