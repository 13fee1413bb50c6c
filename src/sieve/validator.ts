// Checks a parsed script against the registered commands and tests (RFC 5228 section 3/8.3): require
// rules, argument shapes, tags, comparators and match types; yields compiled nodes for the interpreter.
// Not evaluation: nothing here reads a message; constant regexes are only compiled to catch errors early.

import type { Argument, CommandNode, Pos, StringLit, TestNode } from "./ast.ts";
import { COMPARATORS, isComparatorName } from "./comparator.ts";
import { SieveSyntaxError, type SieveDiagnostic } from "./errors.ts";
import type { SieveLimits } from "./limits.ts";
import { RELATIONS } from "./match.ts";
import { compileRegex, RegexCompileError, type CompiledRegex } from "./regex.ts";
import type { Registry } from "./registry.ts";
import {
  type AddressPart,
  type CommandDef,
  type ExtensionOptions,
  type IncludeRequest,
  keyValue,
  type MatchType,
  type Node,
  type Relation,
  type TagSpec,
  type TestDef,
  type ValidationContext,
} from "./spec.ts";
import type { CompiledString, Value } from "./values.ts";
import { didYouMean } from "./suggest.ts";
import { decodeEncodedCharacters, parseVariableParts } from "./variables.ts";

export interface ValidateOptions {
  registry: Registry;
  limits: SieveLimits;
  knownLists?: (name: string) => boolean;
  /** Compiles an included script and returns its id; throws SieveSyntaxError when it cannot. */
  include?: (request: IncludeRequest) => string | null;
  extensions?: ExtensionOptions;
}

export interface ValidateResult {
  commands: Node[];
  requires: Set<string>;
  regexCache: Map<string, CompiledRegex>;
  /** Variables this script declared global (RFC 6609 3.5). */
  globals: Set<string>;
  errors: SieveDiagnostic[];
  warnings: SieveDiagnostic[];
}

// Always available without require (RFC 5228 2.7.3).
const BUILTIN_COMPARATORS = new Set(["i;octet", "i;ascii-casemap"]);

class Validator implements ValidationContext {
  readonly requires = new Set<string>();
  readonly errors: SieveDiagnostic[] = [];
  readonly warnings: SieveDiagnostic[] = [];
  readonly regexCache = new Map<string, CompiledRegex>();
  readonly knownLists: ((name: string) => boolean) | undefined;
  readonly loops: (string | null)[] = [];
  readonly globals = new Set<string>();
  readonly enabledByIhave = new Set<string>();
  readonly requiredAt = new Map<string, Pos>();
  readonly capabilities: ReadonlySet<string>;
  readonly options: ExtensionOptions;
  private readonly config: ValidateOptions;

  constructor(options: ValidateOptions) {
    this.config = options;
    this.knownLists = options.knownLists;
    this.capabilities = options.registry.capabilities;
    this.options = options.extensions ?? {};
  }

  error(pos: Pos, message: string): SieveSyntaxError {
    return new SieveSyntaxError(pos.line, pos.column, message);
  }

  warn(pos: Pos, message: string): void {
    this.warnings.push({ line: pos.line, column: pos.column, message });
  }

  include(request: IncludeRequest): string | null {
    if (!this.config.include) {
      throw this.error(request.pos, "include: no script locations are configured for this script");
    }
    return this.config.include(request);
  }

  private record(err: unknown): void {
    if (!(err instanceof SieveSyntaxError)) throw err;
    this.errors.push({ line: err.line, column: err.column, message: err.message });
  }

  block(commands: CommandNode[], topLevel: boolean): Node[] {
    const out: Node[] = [];
    let seenOther = false;
    let previous: string | null = null;
    for (const c of commands) {
      try {
        if (c.name === "require") {
          if (!topLevel || seenOther)
            throw this.error(c.pos, '"require" is only allowed at the start of the script');
          this.require(c);
          previous = "require";
          continue;
        }
        seenOther = true;
        if ((c.name === "elsif" || c.name === "else") && previous !== "if" && previous !== "elsif") {
          throw this.error(c.pos, `"${c.name}" must follow "if" or "elsif"`);
        }
        previous = c.name;
        out.push(this.node(c, "command"));
      } catch (err) {
        previous = c.name;
        this.record(err);
      }
    }
    return out;
  }

  private require(c: CommandNode): void {
    const arg = c.args[0];
    if (c.args.length !== 1 || arg?.kind !== "strings" || c.tests.length > 0 || c.block !== null) {
      throw this.error(c.pos, '"require" takes one string list of extension names and ends with ";"');
    }
    for (const s of arg.values) {
      const cap = s.value.toLowerCase();
      if (!this.config.registry.capabilities.has(cap)) {
        this.record(
          this.error(
            s.pos,
            `unknown extension "${s.value}" in require${didYouMean(cap, this.config.registry.capabilities)}`,
          ),
        );
      } else {
        this.requires.add(cap);
        this.requiredAt.set(cap, s.pos);
        this.config.registry.implies.get(cap)?.forEach((c) => this.requires.add(c));
      }
    }
  }

  private lookup(name: string, kind: "command" | "test", pos: Pos): CommandDef | TestDef {
    const reg = this.config.registry;
    const def = kind === "command" ? reg.commands.get(name) : reg.tests.get(name);
    if (!def) {
      const other = kind === "command" ? reg.tests.get(name) : reg.commands.get(name);
      if (other) throw this.error(pos, `"${name}" is a ${other.kind}, not a ${kind}`);
      const names = kind === "command" ? reg.commands.keys() : reg.tests.keys();
      throw this.error(pos, `unknown ${kind} "${name}"${didYouMean(name, names)}`);
    }
    if (def.capability && !this.requires.has(def.capability)) {
      throw this.error(
        pos,
        `${kind} "${name}" requires extension "${def.capability}" (add require "${def.capability}")`,
      );
    }
    return def;
  }

  node(src: TestNode | CommandNode, kind: "command" | "test"): Node {
    const def = this.lookup(src.name, kind, src.pos);
    const what = `${kind} "${src.name}"`;
    const node: Node = {
      name: src.name,
      def,
      pos: src.pos,
      tags: new Map(),
      args: [],
      tests: [],
      block: null,
      match: null,
      addressPart: "all",
    };
    const groups = new Map<string, string>();
    const positional: Argument[] = [];
    for (let i = 0; i < src.args.length; i++) {
      const a = src.args[i] as Argument;
      if (a.kind !== "tag") {
        positional.push(a);
        continue;
      }
      const spec = def.tags.find((t) => t.name === a.name);
      if (!spec) {
        const hint = didYouMean(
          a.name,
          def.tags.map((t) => t.name),
        ).replace('"', '":');
        throw this.error(a.pos, `unknown tag ":${a.name}" for ${what}${hint}`);
      }
      if (spec.capability && !this.requires.has(spec.capability)) {
        throw this.error(
          a.pos,
          `tag ":${a.name}" requires extension "${spec.capability}" (add require "${spec.capability}")`,
        );
      }
      if (node.tags.has(a.name)) throw this.error(a.pos, `tag ":${a.name}" given twice for ${what}`);
      if (spec.group) {
        const clash = groups.get(spec.group);
        if (clash) throw this.error(a.pos, `tag ":${a.name}" conflicts with ":${clash}" for ${what}`);
        groups.set(spec.group, a.name);
      }
      let value: Value | undefined;
      if (spec.value) {
        const v = src.args[++i];
        if (!v || v.kind === "tag") {
          throw this.error(v?.pos ?? a.pos, `expected ${spec.value} after tag ":${a.name}"`);
        }
        value = this.value(v, spec.value, `tag ":${a.name}"`);
      }
      node.tags.set(a.name, { pos: a.pos, value });
    }
    const specs = def.args;
    const required = specs.filter((s) => !s.optional).length;
    if (positional.length > specs.length) {
      const extra = positional[specs.length] as Argument;
      throw this.error(extra.pos, `too many arguments for ${what} (expects ${signature(def)})`);
    }
    if (positional.length < required) {
      throw this.error(
        src.pos,
        `${what} expects ${signature(def)}, got ${positional.length} positional argument(s)`,
      );
    }
    specs.forEach((spec, k) => {
      const a = positional[k];
      node.args.push(a ? this.value(a, spec.type, `argument "${spec.name}" of ${what}`) : undefined);
    });
    this.tests(src, node, def, what);
    if (def.kind === "command") {
      const block = (src as CommandNode).block;
      if (def.block && block === null) throw this.error(src.pos, `${what} needs a block "{ ... }"`);
      if (!def.block && block !== null) throw this.error(src.pos, `${what} does not take a block`);
      if (block !== null) node.block = this.commandBlock(node, def, block);
    }
    if (def.tags.some((t) => t.group === "match")) node.match = this.matchSpec(node);
    const part = [...node.tags.keys()].find(
      (t) => def.tags.find((s) => s.name === t)?.group === "address-part",
    );
    if (part) node.addressPart = part as AddressPart;
    def.validate?.(node, this);
    return node;
  }

  /** A command's block, inside a loop (foreverypart) or with ihave's extensions when it has them. */
  private commandBlock(node: Node, def: CommandDef, block: CommandNode[]): Node[] {
    if (def.loop) {
      if (this.loops.length >= this.config.limits.maxLoopDepth) {
        throw this.error(
          node.pos,
          `the nested foreverypart loop exceeds the nesting limit (${this.config.limits.maxLoopDepth} levels)`,
        );
      }
      this.loops.push(this.constant(node.tags.get("name")?.value));
      try {
        return this.block(block, false);
      } finally {
        this.loops.pop();
      }
    }
    // Like Pigeonhole, a block whose test is always false is dead code and is not checked.
    if (
      (node.name === "if" || node.name === "elsif") &&
      node.tests[0] &&
      constantTest(node.tests[0]) === false
    ) {
      this.warn(node.pos, "this block never runs (its test is always false), so it is not checked");
      return [];
    }
    const ihave = node.tests[0]?.name === "ihave" ? this.ihaveCapabilities(node.tests[0]) : null;
    if (ihave === null) return this.block(block, false);
    // RFC 5463 4: a block guarded by ihave of an unknown extension is never run, so it is not validated.
    if (ihave === "unknown") return [];
    const added = [...ihave].filter((c) => !this.requires.has(c));
    added.forEach((c) => this.requires.add(c));
    // Run-time behaviour that depends on a capability (imap4flags on keep …) follows it too.
    added.forEach((c) => this.enabledByIhave.add(c));
    try {
      return this.block(block, false);
    } finally {
      added.forEach((c) => this.requires.delete(c));
    }
  }

  /** The capabilities a constant ihave test names (with what they imply), or "unknown". */
  private ihaveCapabilities(test: Node): Set<string> | "unknown" | null {
    const arg = test.args[0];
    if (arg?.type !== "strings" || arg.items.some((s) => s.parts !== null)) return null;
    const caps = new Set<string>();
    for (const s of arg.items) {
      const cap = s.text.toLowerCase();
      if (!this.capabilities.has(cap)) return "unknown";
      caps.add(cap);
      this.config.registry.implies.get(cap)?.forEach((c) => caps.add(c));
    }
    return caps;
  }

  private tests(src: TestNode, node: Node, def: CommandDef | TestDef, what: string): void {
    const mode = def.kind === "command" ? def.test : def.tests;
    if (mode === "none" && src.tests.length > 0) {
      const first = src.tests[0] as TestNode;
      // "keep fileinto ..." parses as a command with a test; the real mistake is a missing ";".
      if (def.kind === "command" && !def.block && !src.testList) {
        throw this.error(first.pos, `expected ";" after ${what}, found identifier "${first.name}"`);
      }
      throw this.error(first.pos, `${what} does not take a test`);
    }
    if (mode === "one" && (src.tests.length !== 1 || src.testList)) {
      throw this.error(src.pos, `${what} needs exactly one test${src.testList ? " (not a test list)" : ""}`);
    }
    if (mode === "list" && !src.testList) throw this.error(src.pos, `${what} needs a test list "( ... )"`);
    for (const t of src.tests) {
      try {
        node.tests.push(this.node(t, "test"));
      } catch (err) {
        this.record(err);
      }
    }
  }

  private value(a: Argument, type: TagSpec["value"], what: string): Value {
    if (type === "number") {
      if (a.kind !== "number") throw this.error(a.pos, `expected number for ${what}`);
      return { type: "number", value: a.value, pos: a.pos };
    }
    if (a.kind !== "strings") throw this.error(a.pos, `expected ${type} for ${what}`);
    if (type === "string" && a.bracketed)
      throw this.error(a.pos, `expected a single string for ${what}, not a list`);
    return {
      type: "strings",
      items: a.values.map((s) => this.string(s)),
      bracketed: a.bracketed,
      pos: a.pos,
    };
  }

  private string(s: StringLit): CompiledString {
    let text = s.value;
    if (this.requires.has("encoded-character")) {
      const decoded = decodeEncodedCharacters(text);
      if (decoded === null) throw this.error(s.pos, "invalid code point in ${unicode:...} encoded character");
      text = decoded;
    }
    const parts = this.requires.has("variables") ? parseVariableParts(text) : null;
    return { text, parts, pos: s.pos };
  }

  constant(v: Value | undefined): string | null {
    if (v?.type !== "strings" || v.items.some((s) => s.parts !== null)) return null;
    return v.items[0]?.text ?? null;
  }

  private matchSpec(node: Node): Node["match"] {
    const matchTag = (["is", "contains", "matches", "regex", "value", "count", "list"] as const).find((t) =>
      node.tags.has(t),
    );
    const type: MatchType = matchTag ?? "is";
    let relation: Relation | null = null;
    if (type === "value" || type === "count") {
      const tag = node.tags.get(type);
      const rel = this.constant(tag?.value);
      if (rel === null || !RELATIONS.includes(rel.toLowerCase() as Relation)) {
        throw this.error(
          tag?.value?.pos ?? node.pos,
          `":${type}" needs a relation: one of ${RELATIONS.join(", ")}`,
        );
      }
      relation = rel.toLowerCase() as Relation;
    }
    const ctag = node.tags.get("comparator");
    let comparatorName = "i;ascii-casemap";
    if (ctag) {
      const name = this.constant(ctag.value);
      if (name === null) throw this.error(ctag.pos, "comparator name must be a constant string");
      comparatorName = name.toLowerCase();
      if (!isComparatorName(comparatorName))
        throw this.error(ctag.value?.pos ?? ctag.pos, `unknown comparator "${name}"`);
      if (!BUILTIN_COMPARATORS.has(comparatorName) && !this.requires.has(`comparator-${comparatorName}`)) {
        throw this.error(ctag.pos, `comparator "${name}" requires extension "comparator-${comparatorName}"`);
      }
    }
    const comparator = COMPARATORS[comparatorName as keyof typeof COMPARATORS];
    if ((type === "contains" || type === "matches" || type === "regex") && !comparator.substring) {
      throw this.error(
        node.tags.get(type)?.pos ?? node.pos,
        `comparator "${comparator.name}" does not support ":${type}"`,
      );
    }
    if (type === "regex") this.precompileRegexes(node, comparator.name === "i;ascii-casemap");
    if (type === "list" && this.knownLists) this.checkLists(node);
    return { type, comparator, relation };
  }

  private keyList(node: Node): Value | undefined {
    return keyValue(node);
  }

  private precompileRegexes(node: Node, caseInsensitive: boolean): void {
    const keys = this.keyList(node);
    if (keys?.type !== "strings") return;
    for (const s of keys.items) {
      if (s.parts !== null) continue;
      try {
        const rx = compileRegex(s.text, caseInsensitive, this.config.limits.maxRegexProgramSize);
        this.regexCache.set((caseInsensitive ? "i:" : "s:") + s.text, rx);
      } catch (err) {
        if (err instanceof RegexCompileError) throw this.error(s.pos, err.message);
        throw err;
      }
    }
  }

  private checkLists(node: Node): void {
    const keys = this.keyList(node);
    if (keys?.type !== "strings") return;
    for (const s of keys.items) {
      if (s.parts === null && !this.knownLists?.(s.text))
        throw this.error(s.pos, `unknown external list "${s.text}"`);
    }
  }
}

function signature(def: CommandDef | TestDef): string {
  if (def.args.length === 0) return "no positional arguments";
  return def.args.map((a) => (a.optional ? `[<${a.name}: ${a.type}>]` : `<${a.name}: ${a.type}>`)).join(" ");
}

/** Extensions that cannot be required alone (RFC 5703 5: extracttext needs variables and foreverypart). */
const REQUIRE_TOGETHER: Record<string, string[]> = { extracttext: ["variables", "foreverypart"] };

/** true/false when a test's value is known at compile time (true, false, not, anyof, allof of those). */
function constantTest(t: Node): boolean | null {
  switch (t.name) {
    case "true":
      return true;
    case "false":
      return false;
    case "not": {
      const v = t.tests[0] ? constantTest(t.tests[0]) : null;
      return v === null ? null : !v;
    }
    case "anyof":
    case "allof": {
      const values = t.tests.map(constantTest);
      const decisive = t.name === "anyof";
      if (values.includes(decisive)) return decisive;
      return values.every((v) => v === !decisive) ? !decisive : null;
    }
    default:
      return null;
  }
}

export function validate(commands: CommandNode[], options: ValidateOptions): ValidateResult {
  const v = new Validator(options);
  const out = v.block(commands, true);
  for (const [cap, needs] of Object.entries(REQUIRE_TOGETHER)) {
    const at = v.requiredAt.get(cap);
    const missing = needs.filter((n) => !v.requires.has(n));
    if (at && missing.length > 0) {
      v.errors.push({
        line: at.line,
        column: at.column,
        message: `extension "${cap}" cannot be used without ${missing.map((m) => `"${m}"`).join(" and ")} (add require)`,
      });
    }
  }
  const order = (a: SieveDiagnostic, b: SieveDiagnostic) => a.line - b.line || a.column - b.column;
  v.errors.sort(order);
  v.warnings.sort(order);
  return {
    commands: out,
    requires: new Set([...v.requires, ...v.enabledByIhave]),
    regexCache: v.regexCache,
    globals: v.globals,
    errors: v.errors,
    warnings: v.warnings,
  };
}
