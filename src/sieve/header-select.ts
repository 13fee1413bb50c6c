// Picks the header field values a header/address/date test looks at, honouring RFC 5260 :index/:last.
// Not matching: callers pass the selected values on to match.ts.

import type { Pos } from "./ast.ts";
import type { Runtime } from "./runtime.ts";
import { tagNumber, type Node } from "./spec.ts";
import type { Value } from "./values.ts";

const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

/** RFC 5228 2.4.2.2 / 5.7: constant header names must be valid field names. */
export function validateHeaderNames(
  arg: Value | undefined,
  error: (pos: Pos, message: string) => Error,
): void {
  if (arg?.type !== "strings") return;
  for (const s of arg.items) {
    if (s.parts === null && !FIELD_NAME.test(s.text)) throw error(s.pos, `invalid header name "${s.text}"`);
  }
}

export function selectHeaderValues(rt: Runtime, node: Node, pos: Pos, name: string): string[] {
  const values = rt.headerValues(pos, name);
  const index = tagNumber(node, "index");
  if (index === undefined) return values;
  const at = node.tags.has("last") ? values.length - index : index - 1;
  const v = values[at];
  return v === undefined ? [] : [v];
}

/** Compile-time rule shared by the tests that take :index: ":last" needs ":index", which counts from 1. */
export function validateIndex(node: Node, error: (pos: Pos, message: string) => Error): void {
  const index = node.tags.get("index");
  if (node.tags.has("last") && !index)
    throw error(node.tags.get("last")?.pos ?? node.pos, '":last" needs ":index"');
  if (index && tagNumber(node, "index") === 0) throw error(index.pos, '":index" counts from 1');
}
