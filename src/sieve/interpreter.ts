// Walks compiled commands: if/elsif/else chains, control flow (stop, return, break), and each
// command's run(); evaluates tests. Not definitions of commands (extensions/) and not per-run state
// (runtime.ts).

import type { SieveResult } from "./actions.ts";
import type { SieveEnvironment } from "./environment.ts";
import type { SieveLimits } from "./limits.ts";
import { Runtime, type RuntimeScript } from "./runtime.ts";
import type { CommandDef, Control, Node, TestDef } from "./spec.ts";

function evaluate(node: Node, rt: Runtime): boolean {
  rt.step(node.pos);
  return (node.def as TestDef).run(node, rt);
}

function runBlock(nodes: readonly Node[], rt: Runtime): Control | undefined {
  let i = 0;
  while (i < nodes.length) {
    const n = nodes[i] as Node;
    rt.step(n.pos);
    if (n.name !== "if") {
      const control = (n.def as CommandDef).run(n, rt);
      if (control) return control;
      i++;
      continue;
    }
    // An if-chain: the validator guarantees elsif/else only ever follow if/elsif.
    let taken = false;
    let j = i;
    for (;;) {
      const c = nodes[j] as Node;
      if (!taken && (c.name === "else" || rt.evaluate(c.tests[0] as Node))) {
        taken = true;
        const control = runBlock(c.block ?? [], rt);
        if (control) return control;
      }
      j++;
      const next = nodes[j];
      if (c.name === "else" || !next || (next.name !== "elsif" && next.name !== "else")) break;
    }
    i = j;
  }
  return undefined;
}

/** RFC 5429 2.1: reject/ereject cannot be combined with actions that deliver the message. */
function checkConflicts(rt: Runtime, commands: readonly Node[]): void {
  const rejecting = rt.actions.some((a) => a.type === "reject" || a.type === "ereject");
  if (!rejecting) return;
  const delivering = rt.actions.find((a) =>
    ["keep", "fileinto", "redirect", "redirect_list"].includes(a.type),
  );
  if (delivering) {
    rt.fail(commands[0]?.pos ?? { line: 1, column: 1 }, `reject cannot be combined with ${delivering.type}`);
  }
}

export function execute(
  commands: readonly Node[],
  script: RuntimeScript,
  env: SieveEnvironment,
  limits: SieveLimits,
): SieveResult {
  const rt = new Runtime(script, env, limits);
  // The runtime evaluates only nodes this script compiled (spec.ts Nodes).
  rt.evaluate = (node) => evaluate(node as Node, rt);
  rt.runBlock = (nodes) => runBlock(nodes as readonly Node[], rt);
  // "return" in the main script ends it like "stop" (RFC 6609 3.3); a break never leaves its loop.
  runBlock(commands, rt);
  checkConflicts(rt, commands);
  const result: SieveResult = {
    actions: rt.actions,
    implicitKeep: rt.implicitKeep,
    headerEdits: rt.headerEdits,
    steps: rt.steps,
  };
  if (script.requires.has("imap4flags")) result.implicitKeepFlags = [...rt.internalFlags];
  return result;
}
