// RFC 5463 ihave and error. The block of an ihave test that names unknown extensions is not validated
// (validator.ts); at run time ihave answers from the registry the script was compiled with.

import type { Extension } from "../spec.ts";

export const ihaveExtension: Extension = {
  capabilities: ["ihave"],
  commands: [
    {
      kind: "command",
      name: "error",
      capability: "ihave",
      tags: [],
      args: [{ name: "message", type: "string" }],
      test: "none",
      block: false,
      // RFC 5463 5: the script fails; as with any runtime error the message is kept (RFC 5228 2.10.6).
      run: (node, rt) => rt.fail(node.pos, `error: ${rt.string(node.args[0])}`),
    },
  ],
  tests: [
    {
      kind: "test",
      name: "ihave",
      capability: "ihave",
      tags: [],
      args: [{ name: "capabilities", type: "string-list" }],
      tests: "none",
      run(node, rt) {
        const known = rt.main.capabilities;
        return rt.strings(node.args[0]).every((c) => known?.has(c.toLowerCase()) ?? false);
      },
    },
  ],
};
