// Per-run state of the interpreter: limits accounting, variables, the edited header view and actions.
// Not control flow (interpreter.ts) and not match semantics (match.ts); extensions call into this.

import type { Pos } from "./ast.ts";
import type { HeaderEdit, SieveAction } from "./actions.ts";
import type { BodyTransform, SieveEnvironment, SieveHeader } from "./environment.ts";
import { SieveLimitError, SieveRuntimeError, type SieveLimitName } from "./errors.ts";
import type { SieveLimits } from "./limits.ts";
import { compileRegex, RegexCompileError, type CompiledRegex } from "./regex.ts";
import type { CompiledString, SieveNode, Value } from "./values.ts";

export interface RuntimeScript {
  requires: ReadonlySet<string>;
  knownLists: ((name: string) => boolean) | undefined;
  /** Regexes precompiled at validation, keyed by case flag + pattern. */
  regexCache: Map<string, CompiledRegex>;
}

const CLOCK_EVERY = 256;
// Keeps the per-run regex cache from growing without bound when patterns come from variables.
const MAX_DYNAMIC_REGEXES = 64;

export class Runtime {
  readonly env: SieveEnvironment;
  readonly limits: SieveLimits;
  readonly script: RuntimeScript;
  readonly variablesOn: boolean;
  steps = 0;
  actions: SieveAction[] = [];
  headerEdits: HeaderEdit[] = [];
  implicitKeep = true;
  matchVariables: string[] = [];
  /** RFC 5232 internal flags variable, used by keep/fileinto without :flags and the implicit keep. */
  internalFlags: string[] = [];
  private readonly variables = new Map<string, string>();
  private headerView: SieveHeader[] | null = null;
  private readonly bodyCache = new Map<string, string[]>();
  private readonly started = Date.now();
  private dynamicRegexes = new Map<string, CompiledRegex>();
  /** Set by the interpreter so tests like allof/not can evaluate their children. */
  evaluate: (node: SieveNode) => boolean = () => {
    throw new Error("Runtime.evaluate used before the interpreter set it");
  };

  constructor(script: RuntimeScript, env: SieveEnvironment, limits: SieveLimits) {
    this.script = script;
    this.env = env;
    this.limits = limits;
    this.variablesOn = script.requires.has("variables");
  }

  limitError(pos: Pos, limit: SieveLimitName, what: string): SieveLimitError {
    return new SieveLimitError(pos.line, pos.column, limit, this.limits[limit], what);
  }

  fail(pos: Pos, message: string): never {
    throw new SieveRuntimeError(pos.line, pos.column, message);
  }

  /** Charges work; every command, test and comparison costs at least one step. */
  step(pos: Pos, cost = 1): void {
    this.steps += cost;
    if (this.steps > this.limits.maxSteps)
      throw this.limitError(pos, "maxSteps", "too many evaluation steps");
    if (this.steps % CLOCK_EVERY < cost && Date.now() - this.started > this.limits.maxMillis) {
      throw this.limitError(pos, "maxMillis", "evaluation took too long");
    }
  }

  checkString(pos: Pos, s: string): string {
    if (s.length > this.limits.maxStringLength) {
      throw this.limitError(pos, "maxStringLength", `string of ${s.length} characters`);
    }
    return s;
  }

  expand(s: CompiledString): string {
    if (s.parts === null) return s.text;
    let out = "";
    for (const part of s.parts) {
      out += typeof part === "string" ? part : this.lookup(part.variable);
      if (out.length > this.limits.maxStringLength) this.checkString(s.pos, out);
    }
    return out;
  }

  variable(name: string): string {
    return this.lookup(name.toLowerCase());
  }

  private lookup(name: string): string {
    if (/^[0-9]+$/.test(name)) return this.matchVariables[Number(name)] ?? "";
    return this.variables.get(name) ?? "";
  }

  setVariable(pos: Pos, name: string, value: string): void {
    const key = name.toLowerCase();
    if (!this.variables.has(key) && this.variables.size >= this.limits.maxVariables) {
      throw this.limitError(pos, "maxVariables", `variable "${name}"`);
    }
    this.variables.set(key, this.checkString(pos, value));
  }

  strings(v: Value | undefined): string[] {
    if (v === undefined) return [];
    if (v.type !== "strings") return [String(v.value)];
    if (v.items.length > this.limits.maxListLength) {
      throw this.limitError(v.pos, "maxListLength", `list of ${v.items.length} strings`);
    }
    return v.items.map((s) => this.expand(s));
  }

  string(v: Value | undefined): string {
    return this.strings(v)[0] ?? "";
  }

  /** Header fields as the script currently sees them, including earlier editheader changes. */
  headers(): SieveHeader[] {
    this.headerView ??= this.env.headers().map((h) => ({ name: h.name, value: h.value }));
    return this.headerView;
  }

  /** Body parts for one transform, fetched from the environment once per run (MIME walks are costly). */
  body(transform: BodyTransform, contentTypes?: string[]): string[] {
    const key = transform + "\0" + (contentTypes ?? []).map((t) => t.toLowerCase()).join("\0");
    let parts = this.bodyCache.get(key);
    if (!parts) {
      parts = this.env.body(transform, contentTypes);
      this.bodyCache.set(key, parts);
    }
    return parts;
  }

  headerValues(pos: Pos, name: string): string[] {
    const lower = name.toLowerCase();
    const values = this.headers()
      .filter((h) => h.name.toLowerCase() === lower)
      .map((h) => h.value);
    if (values.length > this.limits.maxListLength) {
      throw this.limitError(pos, "maxListLength", `${values.length} "${name}" header fields`);
    }
    return values;
  }

  countAction(pos: Pos): void {
    if (this.actions.length + this.headerEdits.length >= this.limits.maxActions) {
      throw this.limitError(pos, "maxActions", "too many actions");
    }
  }

  /**
   * Records an action once (RFC 5228 4: repeated identical actions are one) and cancels the implicit
   * keep for actions that dispose of the message.
   */
  addAction(pos: Pos, action: SieveAction): void {
    const same = this.actions.find((a) => sameAction(a, action));
    if (!same) {
      this.countAction(pos);
      if (action.type === "redirect" || action.type === "redirect_list") {
        const redirects = this.actions.filter(
          (a) => a.type === "redirect" || a.type === "redirect_list",
        ).length;
        if (redirects >= this.limits.maxRedirects)
          throw this.limitError(pos, "maxRedirects", "too many redirects");
      }
      this.actions.push(action);
    }
    if (cancelsImplicitKeep(action)) this.implicitKeep = false;
  }

  regex(pos: Pos, pattern: string, caseInsensitive: boolean): CompiledRegex {
    const key = (caseInsensitive ? "i:" : "s:") + pattern;
    const cached = this.script.regexCache.get(key) ?? this.dynamicRegexes.get(key);
    if (cached) return cached;
    try {
      const rx = compileRegex(pattern, caseInsensitive, this.limits.maxRegexProgramSize);
      if (this.dynamicRegexes.size >= MAX_DYNAMIC_REGEXES) this.dynamicRegexes = new Map();
      this.dynamicRegexes.set(key, rx);
      return rx;
    } catch (err) {
      if (err instanceof RegexCompileError && /too complex/.test(err.message)) {
        throw this.limitError(pos, "maxRegexProgramSize", err.message);
      }
      return this.fail(pos, (err as Error).message);
    }
  }
}

function sameAction(a: SieveAction, b: SieveAction): boolean {
  if (a.type !== b.type) return false;
  switch (b.type) {
    case "fileinto":
      return (a as typeof b).folder === b.folder;
    case "redirect":
      return (a as typeof b).address.toLowerCase() === b.address.toLowerCase();
    case "redirect_list":
      return (a as typeof b).list === b.list;
    case "notify":
      return (a as typeof b).to === b.to && (a as typeof b).template === b.template;
    // One disposition of each kind: the first reject/hold/quarantine reason wins.
    default:
      return true;
  }
}

function cancelsImplicitKeep(a: SieveAction): boolean {
  switch (a.type) {
    case "keep":
    case "discard":
    case "reject":
    case "ereject":
    case "quarantine":
      return true;
    case "fileinto":
    case "redirect":
    case "redirect_list":
      return !a.copy;
    case "hold":
    case "notify":
      return false;
  }
}
