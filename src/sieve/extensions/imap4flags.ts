// RFC 5232 imap4flags: setflag/addflag/removeflag, the hasflag test, and :flags on keep/fileinto.
// Not flag storage: flags travel in the keep/fileinto actions and SieveResult.implicitKeepFlags.

import { matchValues } from "../match.ts";
import type { Runtime } from "../runtime.ts";
import {
  keyValue,
  MATCH_TAGS,
  type CommandDef,
  type Extension,
  type MatchSpec,
  type Node,
  type TagSpec,
  type ValidationContext,
} from "../spec.ts";
import { isValidVariableName } from "../variables.ts";

export const FLAGS_TAG: TagSpec = { name: "flags", value: "string-list", capability: "imap4flags" };

/** Flags from strings that may each hold several space-separated flags; duplicates (any case) dropped. */
export function parseFlags(strings: string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const s of strings) {
    for (const f of s.split(/\s+/)) {
      const key = f.toLowerCase();
      if (f && !seen.has(key)) {
        seen.add(key);
        out.push(f);
      }
    }
  }
  return out;
}

/** Flags for a keep/fileinto: its :flags argument, else the internal variable; undefined without imap4flags. */
export function actionFlags(node: Node, rt: Runtime): string[] | undefined {
  if (!rt.script.requires.has("imap4flags")) return undefined;
  const tag = node.tags.get("flags");
  return tag ? parseFlags(rt.strings(tag.value)) : [...rt.internalFlags];
}

/** With two positional arguments the first names variables, which needs the variables extension. */
function validateVariables(node: Node, ctx: ValidationContext): void {
  const names = node.args[0];
  if (node.args[1] === undefined || names?.type !== "strings") return;
  if (!ctx.requires.has("variables")) {
    throw ctx.error(
      names.pos,
      `naming a flag variable requires extension "variables" (add require "variables")`,
    );
  }
  for (const s of names.items) {
    if (s.parts === null && !isValidVariableName(s.text))
      throw ctx.error(s.pos, `invalid variable name "${s.text}"`);
  }
}

const ARGS = [
  { name: "variable-or-flags", type: "string-list" as const },
  { name: "list-of-flags", type: "string-list" as const, optional: true },
];

function flagCommand(name: string, op: (current: string[], given: string[]) => string[]): CommandDef {
  return {
    kind: "command",
    name,
    capability: "imap4flags",
    tags: [],
    args: ARGS,
    test: "none",
    block: false,
    validate(node, ctx) {
      validateVariables(node, ctx);
      if (node.args[1] !== undefined && node.args[0]?.type === "strings" && node.args[0].bracketed) {
        throw ctx.error(node.args[0].pos, `"${name}" takes a single variable name`);
      }
    },
    run(node, rt) {
      const variable = node.args[1] === undefined ? null : rt.string(node.args[0]);
      const given = parseFlags(rt.strings(node.args[1] ?? node.args[0]));
      const current = variable === null ? rt.internalFlags : parseFlags([rt.variable(variable)]);
      const next = op(current, given);
      if (variable === null) rt.internalFlags = next;
      else rt.setVariable(node.pos, variable, next.join(" "));
    },
  };
}

export const imap4flagsExtension: Extension = {
  capabilities: ["imap4flags"],
  commands: [
    flagCommand("setflag", (_current, given) => given),
    flagCommand("addflag", (current, given) => parseFlags([...current, ...given])),
    flagCommand("removeflag", (current, given) => {
      const drop = new Set(given.map((f) => f.toLowerCase()));
      return current.filter((f) => !drop.has(f.toLowerCase()));
    }),
  ],
  tests: [
    {
      kind: "test",
      name: "hasflag",
      capability: "imap4flags",
      tags: MATCH_TAGS,
      args: ARGS,
      tests: "none",
      keyArg: (node) => node.args[1] ?? node.args[0],
      validate: validateVariables,
      run(node, rt) {
        const values =
          node.args[1] === undefined
            ? rt.internalFlags
            : parseFlags(rt.strings(node.args[0]).map((v) => rt.variable(v)));
        return matchValues(rt, node.pos, node.match as MatchSpec, values, rt.strings(keyValue(node)));
      },
    },
  ],
};
