// RFC 5228 5.4 envelope test (parts "from", "to", and "auth" for the authenticated submitter).
// Not address parsing of headers: envelope addresses arrive already bare.

import { addressPart } from "../address.ts";
import { ADDRESS_PART_TAGS, MATCH_TAGS, type Extension } from "../spec.ts";
import { matchKeys } from "./core-tests.ts";

const PARTS = new Set(["from", "to", "auth"]);

export const envelopeExtension: Extension = {
  capabilities: ["envelope"],
  commands: [],
  tests: [
    {
      kind: "test",
      name: "envelope",
      capability: "envelope",
      tags: [...MATCH_TAGS, ...ADDRESS_PART_TAGS],
      args: [
        { name: "envelope-part", type: "string-list" },
        { name: "key-list", type: "string-list" },
      ],
      tests: "none",
      validate(node, ctx) {
        const parts = node.args[0];
        if (parts?.type !== "strings") return;
        for (const s of parts.items) {
          if (s.parts === null && !PARTS.has(s.text.toLowerCase())) {
            throw ctx.error(s.pos, `unknown envelope part "${s.text}" (expected "from", "to" or "auth")`);
          }
        }
      },
      run(node, rt) {
        const values: string[] = [];
        for (const part of rt.strings(node.args[0])) {
          const p = part.toLowerCase();
          const addr =
            p === "from"
              ? rt.env.envelope.from
              : p === "to"
                ? rt.env.envelope.to
                : p === "auth"
                  ? rt.env.envelope.auth
                  : null;
          if (addr === null) continue;
          // RFC 5228 5.4: the null reverse-path is the empty string whatever the address part.
          if (addr === "") {
            values.push("");
            continue;
          }
          const v = addressPart(addr, node.addressPart);
          if (v !== null) values.push(v);
        }
        return matchKeys(rt, node, values);
      },
    },
  ],
};
