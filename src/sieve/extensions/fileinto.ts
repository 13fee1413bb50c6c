// RFC 5228 4.1 fileinto, with RFC 3894 :copy. Not folder policy: which folders exist is the caller's call.

import type { Extension } from "../spec.ts";
import { actionFlags, FLAGS_TAG } from "./imap4flags.ts";

export const fileintoExtension: Extension = {
  capabilities: ["fileinto"],
  tests: [],
  commands: [
    {
      kind: "command",
      name: "fileinto",
      capability: "fileinto",
      tags: [{ name: "copy", capability: "copy" }, FLAGS_TAG],
      args: [{ name: "folder", type: "string" }],
      test: "none",
      block: false,
      run(node, rt) {
        const folder = rt.string(node.args[0]);
        if (folder === "") rt.fail(node.pos, "fileinto needs a non-empty folder name");
        const flags = actionFlags(node, rt);
        const copy = node.tags.has("copy");
        rt.addAction(
          node.pos,
          flags ? { type: "fileinto", folder, copy, flags } : { type: "fileinto", folder, copy },
        );
      },
    },
  ],
};
