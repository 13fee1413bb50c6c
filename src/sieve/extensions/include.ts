// RFC 6609 include: include [:personal/:global] [:once] [:optional] <name>, return, and global
// variables. Not script lookup: the caller's IncludeResolver (compile.ts) finds and compiles scripts.

import { isValidVariableName } from "../variables.ts";
import type { Extension } from "../spec.ts";

interface IncludeData {
  /** Unit id of the included script, or null when it is :optional and absent. */
  unit: string | null;
}

export const includeExtension: Extension = {
  capabilities: ["include"],
  tests: [],
  commands: [
    {
      kind: "command",
      name: "include",
      capability: "include",
      tags: [
        { name: "personal", group: "location" },
        { name: "global", group: "location" },
        { name: "once" },
        { name: "optional" },
      ],
      args: [{ name: "script-name", type: "string" }],
      test: "none",
      block: false,
      validate(node, ctx) {
        const arg = node.args[0];
        const s = arg?.type === "strings" ? arg.items[0] : undefined;
        // RFC 6609 3.2: the name is a constant, so the whole set is known (and checked) at compile time.
        if (!s || s.parts !== null)
          throw ctx.error(arg?.pos ?? node.pos, "include needs a constant script name");
        const data: IncludeData = {
          unit: ctx.include({
            location: node.tags.has("global") ? "global" : "personal",
            name: s.text,
            optional: node.tags.has("optional"),
            pos: s.pos,
          }),
        };
        node.compiled = data;
      },
      run(node, rt) {
        const { unit: id } = node.compiled as IncludeData;
        if (id === null) return;
        if (node.tags.has("once") && rt.included.has(id)) return;
        rt.included.add(id);
        const unit = rt.main.units?.get(id);
        if (!unit) return rt.fail(node.pos, "included script is missing from the compiled set");
        return rt.runUnit(node.pos, unit);
      },
    },
    {
      kind: "command",
      name: "return",
      capability: "include",
      tags: [],
      args: [],
      test: "none",
      block: false,
      run: () => "return",
    },
    {
      kind: "command",
      name: "global",
      capability: "include",
      tags: [],
      args: [{ name: "value", type: "string-list" }],
      test: "none",
      block: false,
      validate(node, ctx) {
        if (!ctx.requires.has("variables")) {
          throw ctx.error(node.pos, '"global" needs the "variables" extension (add require "variables")');
        }
        const arg = node.args[0];
        if (arg?.type !== "strings") return;
        for (const s of arg.items) {
          if (s.parts !== null || !isValidVariableName(s.text)) {
            throw ctx.error(s.pos, `invalid variable name "${s.text}" for "global"`);
          }
          ctx.globals.add(s.text.toLowerCase());
        }
      },
      run: () => undefined,
    },
  ],
};
