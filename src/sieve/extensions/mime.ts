// RFC 5703: the mime and foreverypart extensions — the :mime family of tags on header, address and
// exists; foreverypart [:name] loops with break [:name]; extracttext. Not MIME parsing: parts come from
// the environment; tag semantics live in ../mime-select.ts.

import { isValidVariableName, applyModifiers, MODIFIER_TAGS, type SetModifier } from "../variables.ts";
import { mimeParts } from "../mime-select.ts";
import { tagNumber, type Extension, type Node, type TagSpec, type ValidationContext } from "../spec.ts";

/** :mime and :anychild (header, address, exists). */
export const MIME_PART_TAGS: TagSpec[] = [
  { name: "mime", capability: "mime" },
  { name: "anychild", capability: "mime" },
];

/** The header test's views of a structured field; one at most (RFC 5703 4.1). */
export const MIME_OPTION_TAGS: TagSpec[] = [
  { name: "type", group: "mime-option", capability: "mime" },
  { name: "subtype", group: "mime-option", capability: "mime" },
  { name: "contenttype", group: "mime-option", capability: "mime" },
  { name: "param", value: "string-list", group: "mime-option", capability: "mime" },
];

/** :anychild and the options mean nothing without :mime. */
export function validateMimeTags(node: Node, ctx: ValidationContext): void {
  if (node.tags.has("mime")) return;
  for (const t of ["anychild", "type", "subtype", "contenttype", "param"]) {
    const tag = node.tags.get(t);
    if (tag) throw ctx.error(tag.pos, `the ":${t}" tag needs ":mime"`);
  }
}

function loopName(node: Node, ctx: ValidationContext): string | null {
  const v = node.tags.get("name")?.value;
  if (v === undefined) return null;
  const name = v.type === "strings" && v.items[0]?.parts === null ? v.items[0].text : null;
  if (name === null) throw ctx.error(v.pos, "a loop name must be a constant string");
  return name;
}

export const mimeExtension: Extension = {
  capabilities: ["mime", "foreverypart", "extracttext"],
  tests: [],
  commands: [
    {
      kind: "command",
      name: "foreverypart",
      capability: "foreverypart",
      tags: [{ name: "name", value: "string" }],
      args: [],
      test: "none",
      block: true,
      loop: true,
      validate: (node, ctx) => void loopName(node, ctx),
      run(node, rt) {
        if (rt.loopParts.length >= rt.limits.maxLoopDepth) {
          throw rt.limitError(node.pos, "maxLoopDepth", "foreverypart loops nested too deeply");
        }
        // The outermost loop visits the message itself and every part in it; a nested loop visits
        // the parts below the enclosing loop's current part (as Pigeonhole does).
        const outer = rt.loopParts.length === 0;
        const from = rt.currentPart();
        const parts = outer ? [from, ...rt.descendants(from)] : rt.descendants(from);
        const name = node.tags.get("name") ? rt.string(node.tags.get("name")?.value) : null;
        for (const part of parts) {
          rt.step(node.pos);
          rt.loopParts.push(part);
          let control;
          try {
            control = rt.runBlock(node.block ?? []);
          } finally {
            rt.loopParts.pop();
          }
          if (control === undefined) continue;
          if (typeof control === "object" && (control.break === null || control.break === name)) return;
          return control;
        }
      },
    },
    {
      kind: "command",
      name: "break",
      capability: "foreverypart",
      tags: [{ name: "name", value: "string" }],
      args: [],
      test: "none",
      block: false,
      validate(node, ctx) {
        const name = loopName(node, ctx);
        if (ctx.loops.length === 0) throw ctx.error(node.pos, '"break" is not inside a foreverypart loop');
        if (name !== null && !ctx.loops.includes(name)) {
          throw ctx.error(node.pos, `"break" is not inside a foreverypart loop named "${name}"`);
        }
      },
      run: (node, rt) => ({
        break: node.tags.get("name") ? rt.string(node.tags.get("name")?.value) : null,
      }),
    },
    {
      kind: "command",
      name: "extracttext",
      capability: "extracttext",
      tags: [...MODIFIER_TAGS, { name: "first", value: "number" }],
      args: [{ name: "varname", type: "string" }],
      test: "none",
      block: false,
      validate(node, ctx) {
        if (!ctx.requires.has("variables")) {
          throw ctx.error(
            node.pos,
            '"extracttext" needs the "variables" extension (add require "variables")',
          );
        }
        if (!ctx.requires.has("foreverypart")) {
          throw ctx.error(
            node.pos,
            '"extracttext" needs the "foreverypart" extension (add require "foreverypart")',
          );
        }
        if (ctx.loops.length === 0)
          throw ctx.error(node.pos, '"extracttext" is not inside a foreverypart loop');
        const name = node.args[0];
        const s = name?.type === "strings" ? name.items[0] : undefined;
        if (s && s.parts === null && /^[0-9]+$/.test(s.text)) {
          throw ctx.error(s.pos, `cannot assign to match variable "${s.text}"`);
        }
        if (!s || s.parts !== null || !isValidVariableName(s.text, ctx.requires.has("include"))) {
          throw ctx.error(
            name?.pos ?? node.pos,
            `invalid variable name "${s?.text ?? ""}" for "extracttext"`,
          );
        }
      },
      run(node, rt) {
        const text = rt.partText(rt.currentPart(), tagNumber(node, "first"));
        const modifiers = [...node.tags.keys()].filter((t) => t !== "first") as SetModifier[];
        rt.setVariable(
          node.pos,
          rt.string(node.args[0]),
          applyModifiers(rt.checkString(node.pos, text), modifiers),
        );
      },
    },
  ],
};

export { mimeParts };
