// RFC 5228 control and action commands: require, if/elsif/else, stop, keep, discard, redirect.
// Not the if-chain logic itself: interpreter.ts walks if/elsif/else; their definitions only fix the shape.

import { parseMailbox } from "../address.ts";
import type { CommandDef, Extension } from "../spec.ts";
import { actionFlags, FLAGS_TAG } from "./imap4flags.ts";

const noop = (): void => undefined;

const control = (name: string, test: "none" | "one", block: boolean): CommandDef => ({
  kind: "command",
  name,
  capability: null,
  tags: [],
  args: [],
  test,
  block,
  run: noop,
});

export const coreCommands: Extension = {
  capabilities: [],
  tests: [],
  commands: [
    control("if", "one", true),
    control("elsif", "one", true),
    control("else", "none", true),
    {
      kind: "command",
      name: "require",
      capability: null,
      tags: [],
      args: [{ name: "capabilities", type: "string-list" }],
      test: "none",
      block: false,
      run: noop,
    },
    { ...control("stop", "none", false), run: () => "stop" },
    {
      ...control("keep", "none", false),
      tags: [FLAGS_TAG],
      run(node, rt) {
        const flags = actionFlags(node, rt);
        rt.addAction(node.pos, flags ? { type: "keep", flags } : { type: "keep" });
      },
    },
    {
      ...control("discard", "none", false),
      run: (node, rt) => rt.addAction(node.pos, { type: "discard" }),
    },
    {
      kind: "command",
      name: "redirect",
      capability: null,
      tags: [
        { name: "copy", capability: "copy" },
        { name: "list", capability: "extlists" },
      ],
      args: [{ name: "address", type: "string" }],
      test: "none",
      block: false,
      validate(node, ctx) {
        const a = node.args[0];
        if (node.tags.has("list")) {
          if (
            a?.type === "strings" &&
            a.items[0]?.parts === null &&
            ctx.knownLists &&
            !ctx.knownLists(a.items[0].text)
          ) {
            throw ctx.error(a.pos, `unknown external list "${a.items[0].text}"`);
          }
          return;
        }
        // RFC 5228 4.2: a mailbox, which may carry a display name and comments (Pigeonhole agrees).
        const text = a?.type === "strings" && a.items[0]?.parts === null ? a.items[0].text : null;
        const parsed = text === null ? null : parseMailbox(text);
        if (parsed && "error" in parsed) {
          throw ctx.error(a?.pos ?? node.pos, `redirect address "${text}" is not valid: ${parsed.error}`);
        }
      },
      run(node, rt) {
        const address = rt.string(node.args[0]);
        if (node.tags.has("list")) {
          rt.addAction(node.pos, { type: "redirect_list", list: address, copy: node.tags.has("copy") });
          return;
        }
        const parsed = parseMailbox(address);
        if ("error" in parsed) {
          return rt.fail(node.pos, `redirect address "${address}" is not valid: ${parsed.error}`);
        }
        rt.addAction(node.pos, { type: "redirect", address: parsed.address, copy: node.tags.has("copy") });
      },
    },
  ],
};
