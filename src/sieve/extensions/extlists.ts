// RFC 6134 externally stored lists: the valid_ext_list test (the :list match type is in match.ts).
// Not list storage: membership and known names come from the caller.

import type { Extension } from "../spec.ts";

export const extlistsExtension: Extension = {
  capabilities: ["extlists"],
  commands: [],
  tests: [
    {
      kind: "test",
      name: "valid_ext_list",
      capability: "extlists",
      tags: [],
      args: [{ name: "ext-list-names", type: "string-list" }],
      tests: "none",
      run(node, rt) {
        const known = rt.env.knownList?.bind(rt.env) ?? rt.script.knownLists;
        if (!known) return false;
        return rt.strings(node.args[0]).every((name) => known(name));
      },
    },
  ],
};
