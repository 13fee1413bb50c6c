// RFC 5703 4.1-4.3: which header values a test with :mime looks at (the current part, or it and
// every part below it with :anychild) and the :type/:subtype/:contenttype/:param views of them.
// Not part iteration (extensions/mime.ts) and not MIME parsing (the environment supplies parts).

import libmime from "libmime";
import type { Pos } from "./ast.ts";
import type { SieveMimePart } from "./environment.ts";
import type { Runtime } from "./runtime.ts";
import type { SieveNode, Value } from "./values.ts";

/** What a :mime test needs of its node (spec.ts's Node has it). */
interface MimeNode extends SieveNode {
  tags: Map<string, { pos: Pos; value?: Value }>;
}

const OPTIONS = ["type", "subtype", "contenttype", "param"] as const;

// RFC 2045 5.2: a part without Content-Type is text/plain; charset=us-ascii.
const DEFAULT_CONTENT_TYPE = "text/plain; charset=us-ascii";

export function mimeParts(rt: Runtime, node: MimeNode): SieveMimePart[] {
  const current = rt.currentPart();
  return node.tags.has("anychild") ? [current, ...rt.descendants(current)] : [current];
}

function parseStructured(value: string): { value: string; params: Record<string, string> } {
  const parsed = libmime.parseHeaderValue(value) as { value: string; params: Record<string, string> };
  return { value: parsed.value.trim(), params: parsed.params };
}

/** Header values of the parts a :mime test covers, after its :type/:subtype/:contenttype/:param option. */
export function mimeHeaderValues(rt: Runtime, node: MimeNode, pos: Pos, name: string): string[] {
  const option = OPTIONS.find((t) => node.tags.has(t));
  const out: string[] = [];
  for (const part of mimeParts(rt, node)) {
    let values = rt.partHeaderValues(pos, part, name);
    if (option === undefined) {
      out.push(...values);
      continue;
    }
    if (values.length === 0 && name.toLowerCase() === "content-type") values = [DEFAULT_CONTENT_TYPE];
    for (const v of values) {
      const s = rt.structured(v, parseStructured);
      const slash = s.value.indexOf("/");
      switch (option) {
        case "type":
          out.push(slash < 0 ? s.value : s.value.slice(0, slash).trim());
          break;
        case "subtype":
          out.push(slash < 0 ? "" : s.value.slice(slash + 1).trim());
          break;
        case "contenttype":
          out.push(s.value);
          break;
        case "param":
          for (const p of rt.strings(node.tags.get("param")?.value)) {
            const got = s.params[p.toLowerCase()];
            if (got !== undefined) out.push(got);
          }
          break;
      }
    }
  }
  if (out.length > rt.limits.maxListLength) {
    throw rt.limitError(pos, "maxListLength", `${out.length} "${name}" values across MIME parts`);
  }
  return out;
}
