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
    // RFC 5429 2.4: implementations MUST prohibit executing more than one reject/ereject.
    if (rt.actions.some((a) => a.type === "reject" || a.type === "ereject")) {
      rt.fail(node.pos, `only one reject or ereject may be executed`);
    }
    rt.addAction(node.pos, { type: name, reason: rt.string(node.args[0]) });
  },
});

export const rejectExtension: Extension = {
  capabilities: ["reject", "ereject"],
  tests: [],
  commands: [rejectLike("reject"), rejectLike("ereject")],
};
