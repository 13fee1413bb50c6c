// RFC 5260 date and currentdate tests (:zone, :originalzone, date parts); :index comes via spec.ts.
// Not date arithmetic: parsing and formatting live in ../date.ts.

import {
  DATE_PARTS,
  datePart,
  isValidZone,
  parseRfc5322Date,
  zoneOffset,
  type DatePart,
  type ZonedDate,
} from "../date.ts";
import { selectHeaderValues, validateHeaderNames, validateIndex } from "../header-select.ts";
import type { Runtime } from "../runtime.ts";
import { INDEX_TAGS, MATCH_TAGS, type Node, type ValidationContext } from "../spec.ts";
import type { Value } from "../values.ts";
import type { Extension } from "../spec.ts";
import { matchKeys } from "./core-tests.ts";

function constant(v: Value | undefined): { text: string; pos: Value["pos"] } | null {
  if (v?.type !== "strings") return null;
  const s = v.items[0];
  return s && s.parts === null ? { text: s.text, pos: s.pos } : null;
}

function checkPartAndZone(node: Node, ctx: ValidationContext, partIndex: number): void {
  const part = constant(node.args[partIndex]);
  if (part && !DATE_PARTS.includes(part.text.toLowerCase() as DatePart)) {
    throw ctx.error(part.pos, `unknown date part "${part.text}" (expected one of ${DATE_PARTS.join(", ")})`);
  }
  const zone = constant(node.tags.get("zone")?.value);
  if (zone && !isValidZone(zone.text))
    throw ctx.error(zone.pos, `invalid time zone "${zone.text}" (expected +hhmm or -hhmm)`);
}

function localOffset(rt: Runtime): number {
  const z = rt.env.localZone;
  return z && isValidZone(z) ? zoneOffset(z) : 0;
}

/** Returns null when the part or zone is invalid at run time (the test then fails). */
function partValue(rt: Runtime, node: Node, partArg: Value | undefined, d: ZonedDate): string | null {
  const part = rt.string(partArg).toLowerCase() as DatePart;
  if (!DATE_PARTS.includes(part)) return rt.fail(node.pos, `unknown date part "${part}"`);
  let offset = localOffset(rt);
  if (node.tags.has("originalzone")) offset = d.offset;
  const zoneTag = node.tags.get("zone");
  if (zoneTag) {
    const zone = rt.string(zoneTag.value);
    if (!isValidZone(zone)) return rt.fail(zoneTag.pos, `invalid time zone "${zone}"`);
    offset = zoneOffset(zone);
  }
  return datePart({ time: d.time, offset }, part);
}

export const dateExtension: Extension = {
  capabilities: ["date"],
  commands: [],
  tests: [
    {
      kind: "test",
      name: "date",
      capability: "date",
      tags: [
        ...MATCH_TAGS,
        ...INDEX_TAGS,
        { name: "zone", value: "string", group: "zone" },
        { name: "originalzone", group: "zone" },
      ],
      args: [
        { name: "header-name", type: "string" },
        { name: "date-part", type: "string" },
        { name: "key-list", type: "string-list" },
      ],
      tests: "none",
      validate(node, ctx) {
        validateIndex(node, ctx.error.bind(ctx));
        validateHeaderNames(node.args[0], ctx.warn.bind(ctx));
        checkPartAndZone(node, ctx, 1);
      },
      run(node, rt) {
        const fields = selectHeaderValues(rt, node, node.pos, rt.string(node.args[0]));
        // Without :index only the first occurrence counts, as for the Date field itself.
        let field = fields[0];
        // RFC 5260 4: in Received the date is what follows the last ";".
        if (field !== undefined && rt.string(node.args[0]).toLowerCase() === "received") {
          field = field.slice(field.lastIndexOf(";") + 1);
        }
        const parsed = field === undefined ? null : parseRfc5322Date(field);
        const value = parsed === null ? null : partValue(rt, node, node.args[1], parsed);
        return matchKeys(rt, node, value === null ? [] : [value]);
      },
    },
    {
      kind: "test",
      name: "currentdate",
      capability: "date",
      tags: [...MATCH_TAGS, { name: "zone", value: "string", group: "zone" }],
      args: [
        { name: "date-part", type: "string" },
        { name: "key-list", type: "string-list" },
      ],
      tests: "none",
      validate: (node, ctx) => checkPartAndZone(node, ctx, 0),
      run(node, rt) {
        const now: ZonedDate = { time: rt.env.now.getTime(), offset: localOffset(rt) };
        const value = partValue(rt, node, node.args[0], now);
        return matchKeys(rt, node, value === null ? [] : [value]);
      },
    },
  ],
};
