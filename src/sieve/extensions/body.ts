// RFC 5173 body test with :raw, :content and :text transforms. Not MIME parsing: the environment
// returns the already-transformed parts.

import { MATCH_TAGS, type Extension } from "../spec.ts";
import type { BodyTransform } from "../environment.ts";
import { matchKeys } from "./core-tests.ts";

export const bodyExtension: Extension = {
  capabilities: ["body"],
  commands: [],
  tests: [
    {
      kind: "test",
      name: "body",
      capability: "body",
      tags: [
        ...MATCH_TAGS,
        { name: "raw", group: "transform" },
        { name: "content", value: "string-list", group: "transform" },
        { name: "text", group: "transform" },
      ],
      args: [{ name: "key-list", type: "string-list" }],
      tests: "none",
      validate(node, ctx) {
        if (node.match?.type === "count") {
          throw ctx.error(node.tags.get("count")?.pos ?? node.pos, 'test "body" does not support ":count"');
        }
      },
      run(node, rt) {
        const transform: BodyTransform = node.tags.has("raw")
          ? "raw"
          : node.tags.has("content")
            ? "content"
            : "text";
        const types = transform === "content" ? rt.strings(node.tags.get("content")?.value) : undefined;
        const parts = rt.body(transform, types);
        return matchKeys(rt, node, parts);
      },
    },
  ],
};
