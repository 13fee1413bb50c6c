// Compiled values the runtime reads (strings with variable parts, numbers, string lists) and
// the opaque node it evaluates. Below spec.ts and runtime.ts so neither imports the other's
// floor: the runtime never needs the command definitions.
import type { Pos } from "./ast.ts";

/** A piece of a string that needs variables expansion: literal text or a variable reference. */
export type StringPart = string | { variable: string };

export interface CompiledString {
  /** The literal text (after encoded-character decoding); used as-is when parts is null. */
  text: string;
  /** Non-null only when the variables extension is on and the string references a variable. */
  parts: StringPart[] | null;
  pos: Pos;
}

export type Value =
  | { type: "number"; value: number; pos: Pos }
  | { type: "strings"; items: CompiledString[]; bracketed: boolean; pos: Pos };

/** What the runtime knows of a compiled node: spec.ts's Node is one. */
export interface SieveNode {
  readonly name: string;
  readonly pos: Pos;
}

/** How a command changes control flow: end everything, end this script, or leave a loop. */
export type Control = "stop" | "return" | { break: string | null };

/** Compile options extensions consult at compile and run time; all optional. */
export interface ExtensionOptions {
  /** enotify mailto: may a notification go to this address? Constant targets are checked at compile. */
  notifyAllowed?: (address: string) => boolean;
}
