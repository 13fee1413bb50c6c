// RFC 5229 variables: the set action (with modifiers) and the string test. Expansion of "${...}" inside
// strings happens in runtime.ts; parsing of references in ../variables.ts.

import { MATCH_TAGS, type Extension } from "../spec.ts";
import { applyModifiers, isValidVariableName, MODIFIER_TAGS, type SetModifier } from "../variables.ts";
import { matchKeys } from "./core-tests.ts";

export const variablesExtension: Extension = {
  capabilities: ["variables"],
  commands: [
    {
      kind: "command",
      name: "set",
      capability: "variables",
      tags: MODIFIER_TAGS,
      args: [
        { name: "name", type: "string" },
        { name: "value", type: "string" },
      ],
      test: "none",
      block: false,
      validate(node, ctx) {
        const name = node.args[0];
        if (name?.type !== "strings") return;
        const s = name.items[0];
        if (s && s.parts === null && /^[^.]+\./.test(s.text) && !s.text.toLowerCase().startsWith("global.")) {
          throw ctx.error(name.pos, `variable "${s.text}" is in an unknown namespace`);
        }
        if (!s || s.parts !== null || !isValidVariableName(s.text, ctx.requires.has("include"))) {
          throw ctx.error(name.pos, `invalid variable name "${s?.text ?? ""}" for "set"`);
        }
      },
      run(node, rt) {
        const name = rt.string(node.args[0]);
        const modifiers = [...node.tags.keys()] as SetModifier[];
        const value = applyModifiers(rt.string(node.args[1]), modifiers);
        rt.setVariable(node.pos, name, value);
      },
    },
  ],
  tests: [
    {
      kind: "test",
      name: "string",
      capability: "variables",
      tags: MATCH_TAGS,
      args: [
        { name: "source", type: "string-list" },
        { name: "key-list", type: "string-list" },
      ],
      tests: "none",
      run(node, rt) {
        let values = rt.strings(node.args[0]);
        // RFC 5229 5: for :count, empty source strings are not counted.
        if (node.match?.type === "count") values = values.filter((v) => v !== "");
        return matchKeys(rt, node, values);
      },
    },
  ],
};
