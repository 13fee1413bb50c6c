// Sluice gateway extensions: vnd.sluice.hold, vnd.sluice.quarantine, vnd.sluice.notify and
// vnd.sluice.symbols. Syntax (documented in src/sieve/README.md):
//   hold [":minutes" <number>] [":reason" <string>]          — delay delivery (default 5 minutes)
//   quarantine [":reason" <string>]                            — store instead of delivering
//   notify_template [":to" <roles: string-list>] <template: string>   — roles: sender|recipient|admin
//   symbol [":over" <number> / ":under" <number>] [COMPARATOR] [MATCH-TYPE] <names: string-list>

import type { NotifyTarget } from "../actions.ts";
import { MATCH_TAGS, tagNumber, type Extension } from "../spec.ts";
import type { Value } from "../values.ts";
import { matchValues } from "../match.ts";
import type { MatchSpec } from "../spec.ts";

export const MAX_HOLD_MINUTES = 7 * 24 * 60;
const ROLES: readonly NotifyTarget[] = ["sender", "recipient", "admin"];

function constantStrings(v: Value | undefined): { text: string; pos: Value["pos"] }[] {
  if (v?.type !== "strings") return [];
  return v.items.filter((s) => s.parts === null).map((s) => ({ text: s.text, pos: s.pos }));
}

export const sluiceExtension: Extension = {
  // vnd.sluice.archive only changes which parts foreverypart and :anychild see (Runtime.children).
  capabilities: [
    "vnd.sluice.hold",
    "vnd.sluice.quarantine",
    "vnd.sluice.notify",
    "vnd.sluice.symbols",
    "vnd.sluice.archive",
  ],
  commands: [
    {
      kind: "command",
      name: "hold",
      capability: "vnd.sluice.hold",
      tags: [
        { name: "minutes", value: "number" },
        { name: "reason", value: "string" },
      ],
      args: [],
      test: "none",
      block: false,
      validate(node, ctx) {
        const m = tagNumber(node, "minutes");
        if (m !== undefined && (m < 1 || m > MAX_HOLD_MINUTES)) {
          throw ctx.error(
            node.tags.get("minutes")?.value?.pos ?? node.pos,
            `":minutes" must be 1..${MAX_HOLD_MINUTES}`,
          );
        }
      },
      run(node, rt) {
        const minutes = tagNumber(node, "minutes") ?? 5;
        rt.addAction(node.pos, { type: "hold", minutes, reason: rt.string(node.tags.get("reason")?.value) });
      },
    },
    {
      kind: "command",
      name: "quarantine",
      capability: "vnd.sluice.quarantine",
      tags: [{ name: "reason", value: "string" }],
      args: [],
      test: "none",
      block: false,
      run(node, rt) {
        rt.addAction(node.pos, { type: "quarantine", reason: rt.string(node.tags.get("reason")?.value) });
      },
    },
    {
      kind: "command",
      name: "notify_template",
      capability: "vnd.sluice.notify",
      tags: [{ name: "to", value: "string-list" }],
      args: [{ name: "template", type: "string" }],
      test: "none",
      block: false,
      validate(node, ctx) {
        for (const r of constantStrings(node.tags.get("to")?.value)) {
          if (!ROLES.includes(r.text.toLowerCase() as NotifyTarget)) {
            throw ctx.error(r.pos, `unknown notify target "${r.text}" (expected ${ROLES.join(", ")})`);
          }
        }
        const t = constantStrings(node.args[0])[0];
        if (t && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(t.text))
          throw ctx.error(t.pos, `invalid template name "${t.text}"`);
      },
      run(node, rt) {
        const template = rt.string(node.args[0]);
        const roles = node.tags.has("to") ? rt.strings(node.tags.get("to")?.value) : ["sender"];
        for (const role of roles) {
          const to = role.toLowerCase() as NotifyTarget;
          if (!ROLES.includes(to)) rt.fail(node.pos, `unknown notify target "${role}"`);
          rt.addAction(node.pos, { type: "notify", to, template });
        }
      },
    },
  ],
  tests: [
    {
      kind: "test",
      name: "symbol",
      capability: "vnd.sluice.symbols",
      tags: [
        ...MATCH_TAGS,
        { name: "over", value: "number", group: "score" },
        { name: "under", value: "number", group: "score" },
      ],
      args: [{ name: "names", type: "string-list" }],
      tests: "none",
      validate(node, ctx) {
        const t = node.match?.type;
        if (t === "count" || t === "value" || t === "list") {
          throw ctx.error(node.tags.get(t)?.pos ?? node.pos, `test "symbol" does not support ":${t}"`);
        }
      },
      run(node, rt) {
        // True when some raised symbol's name matches one of the keys and its score passes :over/:under.
        const over = tagNumber(node, "over");
        const under = tagNumber(node, "under");
        const keys = rt.strings(node.args[0]);
        for (const [name, score] of rt.env.symbols) {
          if (over !== undefined && !(score > over)) continue;
          if (under !== undefined && !(score < under)) continue;
          if (matchValues(rt, node.pos, node.match as MatchSpec, [name], keys)) return true;
        }
        return false;
      },
    },
  ],
};
