// Per-run state of the interpreter: limits accounting, variables, the edited header view and actions.
// Not control flow (interpreter.ts) and not match semantics (match.ts); extensions call into this.

import type { Pos } from "./ast.ts";
import type { HeaderEdit, SieveAction } from "./actions.ts";
import type { BodyTransform, SieveEnvironment, SieveHeader, SieveMimePart } from "./environment.ts";
import { SieveLimitError, SieveRuntimeError, type SieveLimitName } from "./errors.ts";
import type { SieveLimits } from "./limits.ts";
import { compileRegex, RegexCompileError, type CompiledRegex } from "./regex.ts";
import type { CompiledString, Control, ExtensionOptions, SieveNode, Value } from "./values.ts";

/** The script being run right now: the main one or an included one. */
export interface RuntimeUnit {
  id: string;
  requires: ReadonlySet<string>;
  commands: readonly SieveNode[];
  /** Regexes precompiled at validation, keyed by case flag + pattern. */
  regexCache: Map<string, CompiledRegex>;
  globals: ReadonlySet<string>;
}

export interface RuntimeScript extends RuntimeUnit {
  knownLists: ((name: string) => boolean) | undefined;
  units?: ReadonlyMap<string, RuntimeUnit>;
  capabilities?: ReadonlySet<string>;
  extensions?: ExtensionOptions;
}

const CLOCK_EVERY = 256;
// Compiled values are immutable, so their constant string lists can be shared by every run.
const CONSTANT_STRINGS = new WeakMap<Value, string[]>();
// Keeps the per-run regex cache from growing without bound when patterns come from variables.
const MAX_DYNAMIC_REGEXES = 64;

export class Runtime {
  readonly env: SieveEnvironment;
  readonly limits: SieveLimits;
  /** The main script (units, capabilities, options). */
  readonly main: RuntimeScript;
  /** The script whose commands run now (RFC 6609: each has its own requires and variables). */
  script: RuntimeUnit & { knownLists: RuntimeScript["knownLists"] };
  variablesOn: boolean;
  steps = 0;
  actions: SieveAction[] = [];
  headerEdits: HeaderEdit[] = [];
  implicitKeep = true;
  matchVariables: string[] = [];
  /** RFC 5232 internal flags variable, used by keep/fileinto without :flags and the implicit keep. */
  internalFlags: string[] = [];
  private variables = new Map<string, string>();
  /** RFC 6609 3.5 global variables, shared by every script of the run. */
  private readonly globalVariables = new Map<string, string>();
  /** Parts of the enclosing foreverypart loops, innermost last. */
  readonly loopParts: SieveMimePart[] = [];
  /** Scripts already included (for include :once). */
  readonly included = new Set<string>();
  includeDepth = 0;
  private mimeRoot: SieveMimePart | null = null;
  private readonly descendantsOnly = new Map<SieveMimePart, SieveMimePart[]>();
  private readonly descendantsWithMembers = new Map<SieveMimePart, SieveMimePart[]>();
  private readonly partIndex = new Map<SieveMimePart, Map<string, string[]>>();
  private readonly textCache = new Map<SieveMimePart, Map<number, string>>();
  /** :matches patterns compiled this run (match.ts), by comparator and key. */
  readonly wildcards = new Map<string, unknown>();
  private readonly paramCache = new Map<string, { value: string; params: Record<string, string> }>();
  private headerView: SieveHeader[] | null = null;
  private readonly bodyCache = new Map<string, string[]>();
  private readonly started = Date.now();
  private dynamicRegexes = new Map<string, CompiledRegex>();
  /** Set by the interpreter so tests like allof/not can evaluate their children. */
  evaluate: (node: SieveNode) => boolean = () => {
    throw new Error("Runtime.evaluate used before the interpreter set it");
  };
  /** Set by the interpreter so loops and include can run a block of commands. */
  runBlock: (nodes: readonly SieveNode[]) => Control | undefined = () => {
    throw new Error("Runtime.runBlock used before the interpreter set it");
  };

  constructor(script: RuntimeScript, env: SieveEnvironment, limits: SieveLimits) {
    this.main = script;
    this.script = script;
    this.env = env;
    this.limits = limits;
    this.variablesOn = script.requires.has("variables");
  }

  /**
   * Runs an included script with its own local and match variables (RFC 6609 3.4); globals are
   * shared. Returns "stop" when it stopped the whole run.
   */
  runUnit(pos: Pos, unit: RuntimeUnit): "stop" | undefined {
    if (this.includeDepth >= this.limits.maxIncludeDepth) {
      throw this.limitError(pos, "maxIncludeDepth", "include nested too deeply");
    }
    const saved = {
      script: this.script,
      variables: this.variables,
      match: this.matchVariables,
      on: this.variablesOn,
    };
    this.script = { ...unit, knownLists: this.main.knownLists };
    this.variables = new Map();
    this.matchVariables = [];
    this.variablesOn = unit.requires.has("variables");
    this.includeDepth++;
    try {
      return this.runBlock(unit.commands) === "stop" ? "stop" : undefined;
    } finally {
      this.includeDepth--;
      this.script = saved.script;
      this.variables = saved.variables;
      this.matchVariables = saved.match;
      this.variablesOn = saved.on;
    }
  }

  /** The message as a MIME part tree (RFC 5703); one part when the environment has no tree. */
  root(): SieveMimePart {
    this.mimeRoot ??= this.env.mime?.() ?? { headers: this.env.headers(), children: [], text: () => "" };
    return this.mimeRoot;
  }

  /** The part RFC 5703 tests look at: the innermost foreverypart's, else the whole message. */
  currentPart(): SieveMimePart {
    return this.loopParts[this.loopParts.length - 1] ?? this.root();
  }

  /** A part's children, plus the files inside it when the script requires vnd.sluice.archive. */
  children(part: SieveMimePart): SieveMimePart[] {
    if (part.members && this.script.requires.has("vnd.sluice.archive")) {
      return [...part.children, ...part.members];
    }
    return part.children;
  }

  /** Every part below `part` in document order (depth first), not including `part` itself. */
  descendants(part: SieveMimePart): SieveMimePart[] {
    // Loops and :anychild ask for the same lists again and again: computed once per part and run.
    const cache = this.script.requires.has("vnd.sluice.archive")
      ? this.descendantsWithMembers
      : this.descendantsOnly;
    let out = cache.get(part);
    if (!out) {
      out = [];
      for (const c of this.children(part)) out.push(c, ...this.descendants(c));
      cache.set(part, out);
    }
    return out;
  }

  /** Header values of one part; the root part's are the message's as edited so far. */
  partHeaderValues(pos: Pos, part: SieveMimePart, name: string): string[] {
    if (part === this.root()) return this.headerValues(pos, name);
    let index = this.partIndex.get(part);
    if (!index) {
      index = new Map();
      for (const h of part.headers) {
        const key = h.name.toLowerCase();
        const list = index.get(key);
        if (list) list.push(h.value.trim());
        else index.set(key, [h.value.trim()]);
      }
      this.partIndex.set(part, index);
    }
    const values = index.get(name.toLowerCase()) ?? [];
    if (values.length > this.limits.maxListLength) {
      throw this.limitError(pos, "maxListLength", `${values.length} "${name}" header fields`);
    }
    return values;
  }

  /** extracttext's text of a part, cut to `first` characters (code points), once per part and length. */
  partText(part: SieveMimePart, first: number | undefined): string {
    const key = first ?? -1;
    let byLength = this.textCache.get(part);
    if (!byLength) this.textCache.set(part, (byLength = new Map()));
    let text = byLength.get(key);
    if (text === undefined) {
      text = part.text();
      if (first !== undefined && text.length > first) {
        let end = 0;
        for (let n = 0; n < first && end < text.length; n++) {
          const c = text.charCodeAt(end);
          end += c >= 0xd800 && c <= 0xdbff && end + 1 < text.length ? 2 : 1;
        }
        text = text.slice(0, end);
      }
      byLength.set(key, text);
    }
    return text;
  }

  /** "type/subtype; a=b" parsed once per run (RFC 2231 continuations and charsets decoded). */
  structured(
    value: string,
    parse: (v: string) => { value: string; params: Record<string, string> },
  ): { value: string; params: Record<string, string> } {
    let hit = this.paramCache.get(value);
    if (!hit) {
      hit = parse(value);
      if (this.paramCache.size < 4096) this.paramCache.set(value, hit);
    }
    return hit;
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

  /** The store a variable name lives in: "global.x" and declared globals are shared (RFC 6609 3.5). */
  private store(name: string): [Map<string, string>, string] {
    if (name.startsWith("global.")) return [this.globalVariables, name.slice(7)];
    if (this.script.globals.has(name)) return [this.globalVariables, name];
    return [this.variables, name];
  }

  private lookup(name: string): string {
    if (/^[0-9]+$/.test(name)) return this.matchVariables[Number(name)] ?? "";
    const [store, key] = this.store(name);
    return store.get(key) ?? "";
  }

  setVariable(pos: Pos, name: string, value: string): void {
    const [store, key] = this.store(name.toLowerCase());
    if (!store.has(key) && this.variables.size + this.globalVariables.size >= this.limits.maxVariables) {
      throw this.limitError(pos, "maxVariables", `variable "${name}"`);
    }
    store.set(key, this.checkString(pos, value));
  }

  strings(v: Value | undefined): string[] {
    if (v === undefined) return [];
    if (v.type !== "strings") return [String(v.value)];
    if (v.items.length > this.limits.maxListLength) {
      throw this.limitError(v.pos, "maxListLength", `list of ${v.items.length} strings`);
    }
    // Constant lists (most key lists) are built once; callers never modify what they get.
    const constant = CONSTANT_STRINGS.get(v);
    if (constant) return constant;
    if (v.items.every((s) => s.parts === null)) {
      const list = v.items.map((s) => s.text);
      CONSTANT_STRINGS.set(v, list);
      return list;
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
    // RFC 5435 3.9: the same notification to the same place is sent once.
    case "enotify":
      return (a as typeof b).method === b.method && (a as typeof b).message === b.message;
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
    case "enotify":
      return false;
  }
}
