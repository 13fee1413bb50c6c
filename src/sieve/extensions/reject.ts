// RFC 5429 reject and ereject. Not the reply itself: the caller chooses between an SMTP refusal and a DSN.

import type { CommandDef, Extension } from "../spec.ts";

const rejectLike = (name: "reject" | "ereject"): CommandDef => ({
  kind: "command",
  name,
  capability: name,
  tags: [],
  args: [{ name: "reason", type: "string" }],
  test: "none",
  block: false,
  run(node, rt) {
    rt.addAction(node.pos, { type: name, reason: rt.string(node.args[0]) });
  },
});

export const rejectExtension: Extension = {
  capabilities: ["reject", "ereject"],
  tests: [],
  commands: [rejectLike("reject"), rejectLike("ereject")],
};
