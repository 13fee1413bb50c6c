// RFC 5235 spamtest, spamtestplus (:percent) and virustest. Not scoring: the values come from the
// spam and virus filters through the environment.

import { MATCH_TAGS, type Extension } from "../spec.ts";
import { matchKeys } from "./core-tests.ts";

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Math.round(v)));
}

export const spamtestExtension: Extension = {
  capabilities: ["spamtest", "spamtestplus", "virustest"],
  implies: { spamtestplus: ["spamtest"] },
  commands: [],
  tests: [
    {
      kind: "test",
      name: "spamtest",
      capability: "spamtest",
      tags: [...MATCH_TAGS, { name: "percent", capability: "spamtestplus" }],
      args: [{ name: "value", type: "string" }],
      tests: "none",
      run(node, rt) {
        if (node.tags.has("percent")) {
          // RFC 5235 3.2: with :percent an untested message has no value at all (":count" "eq" "0").
          const p = rt.env.spamPercent;
          return matchKeys(rt, node, p === null ? [] : [String(clamp(p, 0, 100))]);
        }
        // RFC 5235 3.1: "0" = not tested, "1" = tested and clear … "10" = certainly spam.
        const value = rt.env.spamScore === null ? "0" : String(clamp(rt.env.spamScore, 1, 10));
        return matchKeys(rt, node, [value]);
      },
    },
    {
      kind: "test",
      name: "virustest",
      capability: "virustest",
      tags: MATCH_TAGS,
      args: [{ name: "value", type: "string" }],
      tests: "none",
      run(node, rt) {
        const value = rt.env.virusStatus === null ? "0" : String(clamp(rt.env.virusStatus, 1, 5));
        return matchKeys(rt, node, [value]);
      },
    },
  ],
};
