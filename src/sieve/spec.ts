// Shapes shared by the validator, interpreter and extensions: command/test definitions and compiled nodes.
// Not behaviour: each extension file supplies its own definitions; this file only describes them.

import type { Pos } from "./ast.ts";
import type { Comparator } from "./comparator.ts";
import type { SieveSyntaxError } from "./errors.ts";
import type { Runtime } from "./runtime.ts";
import type { Control, ExtensionOptions, SieveNode, Value } from "./values.ts";

export type ValueType = "string" | "string-list" | "number";

export interface TagSpec {
  name: string;
  /** Type of the value that follows the tag, if it takes one. */
  value?: ValueType;
  /** Tags in one group are mutually exclusive (match type, address part, comparator …). */
  group?: string;
  /** Extension that must be required before the tag may be used. */
  capability?: string;
}

export interface ArgSpec {
  name: string;
  type: ValueType;
  optional?: boolean;
}

export type MatchType = "is" | "contains" | "matches" | "regex" | "value" | "count" | "list";
export type Relation = "gt" | "ge" | "lt" | "le" | "eq" | "ne";
export type AddressPart = "all" | "localpart" | "domain" | "user" | "detail";

export interface MatchSpec {
  type: MatchType;
  comparator: Comparator;
  /** For :value and :count. */
  relation: Relation | null;
}

export interface Node extends SieveNode {
  name: string;
  /** Extension-specific data fixed at compile time (an included script, a parsed URI …). */
  compiled?: unknown;
  def: CommandDef | TestDef;
  pos: Pos;
  tags: Map<string, { pos: Pos; value?: Value }>;
  /** Positional arguments in ArgSpec order; a missing optional argument is undefined. */
  args: (Value | undefined)[];
  tests: Node[];
  block: Node[] | null;
  /** Filled by the validator when the definition takes match-type/comparator tags. */
  match: MatchSpec | null;
  addressPart: AddressPart;
}

export interface ValidationContext {
  requires: ReadonlySet<string>;
  knownLists: ((name: string) => boolean) | undefined;
  /** Names of the enclosing foreverypart loops, innermost last (null for an unnamed loop). */
  readonly loops: readonly (string | null)[];
  /** Every capability the registry knows (ihave). */
  readonly capabilities: ReadonlySet<string>;
  /** Variables declared with the include extension's "global" command so far in this script. */
  readonly globals: Set<string>;
  error(pos: Pos, message: string): SieveSyntaxError;
  /** Records a warning: the script compiles, but probably does not do what its author meant. */
  warn(pos: Pos, message: string): void;
  /** Compiles an included script (RFC 6609); null when it is :optional and absent. */
  include(request: IncludeRequest): string | null;
  /** Per-compile options that extensions read (notify allow-list …). */
  readonly options: ExtensionOptions;
}

export interface IncludeRequest {
  location: "personal" | "global";
  name: string;
  optional: boolean;
  pos: Pos;
}

export type { Control, ExtensionOptions } from "./values.ts";

interface BaseDef {
  name: string;
  /** Extension that must be required; null for the RFC 5228 core. */
  capability: string | null;
  tags: TagSpec[];
  args: ArgSpec[];
  /** Which argument holds the match keys; default: the last positional slot. */
  keyArg?(node: Node): Value | undefined;
  /** Extra compile-time checks beyond argument shapes; throw ctx.error(...) on a problem. */
  validate?(node: Node, ctx: ValidationContext): void;
}

export interface CommandDef extends BaseDef {
  kind: "command";
  test: "none" | "one";
  block: boolean;
  /** Marks a loop (foreverypart): the validator tracks its :name for break and extracttext. */
  loop?: boolean;
  /** Returns a Control to leave the normal flow. Control commands (if/elsif/else/require) are not run here. */
  run(node: Node, rt: Runtime): void | Control;
}

export interface TestDef extends BaseDef {
  kind: "test";
  tests: "none" | "one" | "list";
  run(node: Node, rt: Runtime): boolean;
}

export interface Extension {
  /** Capability strings this module answers to in `require`. */
  capabilities: string[];
  /** Capabilities that requiring another one also grants (RFC 5235: spamtestplus includes spamtest). */
  implies?: Record<string, string[]>;
  commands: CommandDef[];
  tests: TestDef[];
}

export const COMPARATOR_TAG: TagSpec = { name: "comparator", value: "string", group: "comparator" };

export const MATCH_TAGS: TagSpec[] = [
  { name: "is", group: "match" },
  { name: "contains", group: "match" },
  { name: "matches", group: "match" },
  { name: "regex", group: "match", capability: "regex" },
  { name: "value", value: "string", group: "match", capability: "relational" },
  { name: "count", value: "string", group: "match", capability: "relational" },
  { name: "list", group: "match", capability: "extlists" },
  COMPARATOR_TAG,
];

export const ADDRESS_PART_TAGS: TagSpec[] = [
  { name: "all", group: "address-part" },
  { name: "localpart", group: "address-part" },
  { name: "domain", group: "address-part" },
  { name: "user", group: "address-part", capability: "subaddress" },
  { name: "detail", group: "address-part", capability: "subaddress" },
];

/** RFC 5260 section 6: header, address and date tests gain :index/:last. */
export const INDEX_TAGS: TagSpec[] = [
  { name: "index", value: "number", capability: "index" },
  { name: "last", capability: "index" },
];

/** The key-list argument of a matching test (see BaseDef.keyArg). */
export function keyValue(node: Node): Value | undefined {
  return node.def.keyArg ? node.def.keyArg(node) : node.args[node.args.length - 1];
}

export function tagNumber(node: Node, tag: string): number | undefined {
  const v = node.tags.get(tag)?.value;
  return v?.type === "number" ? v.value : undefined;
}
