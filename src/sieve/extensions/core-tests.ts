// RFC 5228 tests: address, allof, anyof, exists, false, true, header, not, size.
// Not envelope (extensions/envelope.ts) and not match semantics (match.ts).

import { ADDRESS_HEADERS, addressPart, parseAddressList } from "../address.ts";
import { selectHeaderValues, validateHeaderNames, validateIndex } from "../header-select.ts";
import { matchValues } from "../match.ts";
import { mimeParts } from "../mime-select.ts";
import { MIME_OPTION_TAGS, MIME_PART_TAGS, validateMimeTags } from "./mime.ts";
import type { Runtime } from "../runtime.ts";
import {
  ADDRESS_PART_TAGS,
  INDEX_TAGS,
  keyValue,
  MATCH_TAGS,
  tagNumber,
  type Extension,
  type MatchSpec,
  type Node,
  type TestDef,
} from "../spec.ts";

/** Shared tail of every matching test: compare values against the (last) key-list argument. */
export function matchKeys(rt: Runtime, node: Node, values: string[]): boolean {
  const keys = rt.strings(keyValue(node));
  return matchValues(rt, node.pos, node.match as MatchSpec, values, keys);
}

const simple = (name: string, tests: "none" | "one" | "list", run: TestDef["run"]): TestDef => ({
  kind: "test",
  name,
  capability: null,
  tags: [],
  args: [],
  tests,
  run,
});

export const coreTests: Extension = {
  capabilities: [],
  commands: [],
  tests: [
    simple("true", "none", () => true),
    simple("false", "none", () => false),
    simple("not", "one", (node, rt) => !rt.evaluate(node.tests[0] as Node)),
    // Short-circuit like RFC 5228 5.1/5.3 allows; it also keeps match variables from later tests unset.
    simple("allof", "list", (node, rt) => node.tests.every((t) => rt.evaluate(t))),
    simple("anyof", "list", (node, rt) => node.tests.some((t) => rt.evaluate(t))),
    {
      kind: "test",
      name: "exists",
      capability: null,
      tags: MIME_PART_TAGS,
      args: [{ name: "header-names", type: "string-list" }],
      tests: "none",
      validate(node, ctx) {
        validateMimeTags(node, ctx);
        validateHeaderNames(node.args[0], ctx.warn.bind(ctx));
      },
      run(node, rt) {
        const names = rt.strings(node.args[0]);
        if (!node.tags.has("mime")) return names.every((h) => rt.headerValues(node.pos, h).length > 0);
        // RFC 5703 4.4: with :anychild, true when some one part has all the fields.
        return mimeParts(rt, node).some((p) =>
          names.every((h) => rt.partHeaderValues(node.pos, p, h).length > 0),
        );
      },
    },
    {
      kind: "test",
      name: "size",
      capability: null,
      tags: [
        { name: "over", value: "number", group: "size" },
        { name: "under", value: "number", group: "size" },
      ],
      args: [],
      tests: "none",
      validate(node, ctx) {
        if (!node.tags.has("over") && !node.tags.has("under")) {
          throw ctx.error(node.pos, 'test "size" needs ":over <limit>" or ":under <limit>"');
        }
      },
      run(node, rt) {
        const over = tagNumber(node, "over");
        if (over !== undefined) return rt.env.size > over;
        return rt.env.size < (tagNumber(node, "under") as number);
      },
    },
    {
      kind: "test",
      name: "header",
      capability: null,
      tags: [...MATCH_TAGS, ...INDEX_TAGS, ...MIME_PART_TAGS, ...MIME_OPTION_TAGS],
      args: [
        { name: "header-names", type: "string-list" },
        { name: "key-list", type: "string-list" },
      ],
      tests: "none",
      validate(node, ctx) {
        validateMimeTags(node, ctx);
        validateIndex(node, ctx.error.bind(ctx));
        validateHeaderNames(node.args[0], ctx.warn.bind(ctx));
      },
      run(node, rt) {
        const names = rt.strings(node.args[0]);
        const values =
          names.length === 1
            ? selectHeaderValues(rt, node, node.pos, names[0] as string)
            : names.flatMap((h) => selectHeaderValues(rt, node, node.pos, h));
        return matchKeys(rt, node, values);
      },
    },
    {
      kind: "test",
      name: "address",
      capability: null,
      tags: [...MATCH_TAGS, ...ADDRESS_PART_TAGS, ...INDEX_TAGS, ...MIME_PART_TAGS],
      args: [
        { name: "header-list", type: "string-list" },
        { name: "key-list", type: "string-list" },
      ],
      tests: "none",
      validate(node, ctx) {
        validateMimeTags(node, ctx);
        validateIndex(node, ctx.error.bind(ctx));
        validateHeaderNames(node.args[0], ctx.warn.bind(ctx));
        const names = node.args[0];
        if (names?.type !== "strings") return;
        for (const h of names.items) {
          if (h.parts === null && !ADDRESS_HEADERS.has(h.text.toLowerCase())) {
            throw ctx.error(h.pos, `header "${h.text}" does not contain addresses (use the header test)`);
          }
        }
      },
      run(node, rt) {
        const values: string[] = [];
        for (const h of rt.strings(node.args[0])) {
          // A name computed at run time that is not an address field simply yields no addresses.
          if (!ADDRESS_HEADERS.has(h.toLowerCase())) continue;
          for (const field of selectHeaderValues(rt, node, node.pos, h)) {
            for (const addr of parseAddressList(field)) {
              const part = addressPart(addr, node.addressPart);
              if (part !== null) values.push(part);
            }
          }
        }
        return matchKeys(rt, node, values);
      },
    },
  ],
};
