// RFC 5293 addheader/deleteheader. Edits are visible to later tests and reported as ordered HeaderEdits.
// Trace and loop-protection fields are protected: Received may be neither added nor deleted, and
// Auto-Submitted may not be deleted (RFC 5293 section 6 leaves such rules to the implementation).

import { matchValues } from "../match.ts";
import {
  INDEX_TAGS,
  MATCH_TAGS,
  tagNumber,
  type Extension,
  type MatchSpec,
  type ValidationContext,
} from "../spec.ts";
import type { Value } from "../values.ts";
import { validateIndex } from "../header-select.ts";
import type { Runtime } from "../runtime.ts";
import type { Pos } from "../ast.ts";

const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;
const PROTECTED_ADD = new Set(["received"]);
const PROTECTED_DELETE = new Set(["received", "auto-submitted"]);

function constantName(v: Value | undefined): string | null {
  if (v?.type !== "strings") return null;
  const s = v.items[0];
  return s && s.parts === null ? s.text : null;
}

/** Pigeonhole's default editheader_max_header_size: a longer constant value is a compile error. */
export const MAX_HEADER_VALUE = 2048;

/**
 * A constant name that is not a field name is an error; a protected one is a warning, because the
 * script is legal and the edit is skipped at run time (Pigeonhole: "modification will be denied").
 */
function checkConstantName(
  v: Value | undefined,
  at: Pos,
  protectedSet: Set<string>,
  verb: string,
  ctx: ValidationContext,
): void {
  const name = constantName(v);
  if (name === null) return;
  const pos = v?.pos ?? at;
  if (name === "") {
    ctx.warn(pos, `empty header field name: the command fails when it runs`);
    return;
  }
  if (!FIELD_NAME.test(name)) throw ctx.error(pos, `invalid header field name "${name}"`);
  if (protectedSet.has(name.toLowerCase())) {
    ctx.warn(pos, `header "${name}" is protected and cannot be ${verb}; the edit will be skipped`);
  }
}

function checkName(name: string, protectedSet: Set<string>, verb: string): string | null {
  if (!FIELD_NAME.test(name)) return `invalid header field name "${name}"`;
  if (protectedSet.has(name.toLowerCase())) return `header "${name}" is protected and cannot be ${verb}`;
  return null;
}

function runtimeName(
  rt: Runtime,
  pos: Pos,
  v: Value | undefined,
  protectedSet: Set<string>,
  verb: string,
): string | null {
  const name = rt.string(v);
  const problem = checkName(name, protectedSet, verb);
  if (problem === null) return name;
  // A protected field is silently left alone (RFC 5293 6); a malformed name is a script error.
  if (protectedSet.has(name.toLowerCase())) return null;
  return rt.fail(pos, problem);
}

export const editheaderExtension: Extension = {
  capabilities: ["editheader"],
  tests: [],
  commands: [
    {
      kind: "command",
      name: "addheader",
      capability: "editheader",
      tags: [{ name: "last" }],
      args: [
        { name: "field-name", type: "string" },
        { name: "value", type: "string" },
      ],
      test: "none",
      block: false,
      validate(node, ctx) {
        checkConstantName(node.args[0], node.pos, PROTECTED_ADD, "added", ctx);
        const value = constantName(node.args[1]);
        const at = node.args[1]?.pos ?? node.pos;
        if (value !== null && value.includes("\0"))
          throw ctx.error(at, "header value contains a NUL character");
        const size = value === null ? 0 : Buffer.byteLength(value);
        if (size > MAX_HEADER_VALUE) {
          throw ctx.error(at, `header value is too large (${size} bytes, at most ${MAX_HEADER_VALUE})`);
        }
      },
      run(node, rt) {
        const name = runtimeName(rt, node.pos, node.args[0], PROTECTED_ADD, "added");
        if (name === null) return;
        // Line breaks inside a value would start a new field; fold them to spaces instead.
        const value = rt.checkString(node.pos, rt.string(node.args[1]).replace(/\r?\n[ \t]*/g, " "));
        if (value.includes("\0")) rt.fail(node.pos, "header value contains a NUL character");
        if (Buffer.byteLength(value) > MAX_HEADER_VALUE) {
          rt.fail(node.pos, `header value is too large (${Buffer.byteLength(value)} bytes)`);
        }
        const last = node.tags.has("last");
        rt.countAction(node.pos);
        const headers = rt.headers();
        if (last) headers.push({ name, value });
        else headers.unshift({ name, value });
        rt.headerEdits.push({ op: "add", name, value, last });
      },
    },
    {
      kind: "command",
      name: "deleteheader",
      capability: "editheader",
      // :index/:last here belong to editheader itself, not to the "index" extension.
      tags: [...MATCH_TAGS, ...INDEX_TAGS.map((t) => ({ ...t, capability: undefined }))],
      args: [
        { name: "field-name", type: "string" },
        { name: "value-patterns", type: "string-list", optional: true },
      ],
      test: "none",
      block: false,
      validate(node, ctx) {
        // Pigeonhole takes ":index 0" here (it deletes nothing); only the index extension's tests refuse it.
        validateIndex(node, ctx.error.bind(ctx), true);
        checkConstantName(node.args[0], node.pos, PROTECTED_DELETE, "deleted", ctx);
      },
      run(node, rt) {
        const name = runtimeName(rt, node.pos, node.args[0], PROTECTED_DELETE, "deleted");
        if (name === null) return;
        const lower = name.toLowerCase();
        const headers = rt.headers();
        const positions: number[] = [];
        headers.forEach((h, i) => {
          if (h.name.toLowerCase() === lower) positions.push(i);
        });
        let chosen = positions.map((p, k) => ({ at: p, occurrence: k + 1 }));
        const index = tagNumber(node, "index");
        if (index !== undefined) {
          const k = node.tags.has("last") ? positions.length - index : index - 1;
          chosen = chosen.filter((c) => c.occurrence === k + 1);
        }
        const patterns = node.args[1];
        if (patterns !== undefined) {
          const keys = rt.strings(patterns);
          const saved = rt.matchVariables;
          chosen = chosen.filter((c) =>
            matchValues(rt, node.pos, node.match as MatchSpec, [headers[c.at]?.value ?? ""], keys),
          );
          rt.matchVariables = saved;
        }
        // Delete bottom-up so each reported occurrence number is still valid when applied in order.
        for (const c of chosen.reverse()) {
          rt.countAction(node.pos);
          headers.splice(c.at, 1);
          rt.headerEdits.push({ op: "delete", name, occurrence: c.occurrence });
        }
      },
    },
  ],
};
