// RFC 5183 environment test. Not the item values: the caller fills SieveEnvironment.environment.

import { MATCH_TAGS, type Extension } from "../spec.ts";
import { matchKeys } from "./core-tests.ts";

export const environmentExtension: Extension = {
  capabilities: ["environment"],
  commands: [],
  tests: [
    {
      kind: "test",
      name: "environment",
      capability: "environment",
      tags: MATCH_TAGS,
      args: [
        { name: "name", type: "string" },
        { name: "key-list", type: "string-list" },
      ],
      tests: "none",
      run(node, rt) {
        const name = rt.string(node.args[0]).toLowerCase();
        const items = rt.env.environment;
        // RFC 5183 4: an unknown item makes the test false, even for :count.
        if (!Object.hasOwn(items, name)) return false;
        return matchKeys(rt, node, [items[name] as string]);
      },
    },
  ],
};
