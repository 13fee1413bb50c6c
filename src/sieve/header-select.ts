// Picks the header field values a header/address/date test looks at, honouring RFC 5260 :index/:last.
// Not matching: callers pass the selected values on to match.ts.

import type { Pos } from "./ast.ts";
import type { Runtime } from "./runtime.ts";
import { tagNumber, type Node } from "./spec.ts";
import type { Value } from "./values.ts";
import { mimeHeaderValues } from "./mime-select.ts";

const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

/**
 * RFC 5228 2.4.2.2: a constant header name that is not a valid field name can never match. Like
 * Pigeonhole, that is a warning, not an error: the script is legal, the test is just always false.
 */
export function validateHeaderNames(arg: Value | undefined, warn: (pos: Pos, message: string) => void): void {
  if (arg?.type !== "strings") return;
  for (const s of arg.items) {
    if (s.parts === null && !FIELD_NAME.test(s.text)) {
      warn(s.pos, `invalid header name "${s.text}": this test never matches it`);
    }
  }
}

export function selectHeaderValues(rt: Runtime, node: Node, pos: Pos, name: string): string[] {
  const values = node.tags.has("mime") ? mimeHeaderValues(rt, node, pos, name) : rt.headerValues(pos, name);
  const index = tagNumber(node, "index");
  if (index === undefined) return values;
  const at = node.tags.has("last") ? values.length - index : index - 1;
  const v = values[at];
  return v === undefined ? [] : [v];
}

/** Compile-time rule shared by the tests that take :index: ":last" needs ":index", which counts from 1. */
export function validateIndex(
  node: Node,
  error: (pos: Pos, message: string) => Error,
  allowZero = false,
): void {
  const index = node.tags.get("index");
  if (node.tags.has("last") && !index)
    throw error(node.tags.get("last")?.pos ?? node.pos, '":last" needs ":index"');
  if (index && !allowZero && tagNumber(node, "index") === 0) throw error(index.pos, '":index" counts from 1');
}
