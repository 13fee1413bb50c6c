// Match types of RFC 5228 2.7.1 (:is :contains :matches), RFC 5231 (:value :count), the regex draft
// and RFC 6134 (:list), over a comparator. Not value extraction: tests pass in the values they compare.

import type { Pos } from "./ast.ts";
import type { Comparator } from "./comparator.ts";
import { execRegex } from "./regex.ts";
import type { Runtime } from "./runtime.ts";
import type { MatchSpec, Relation } from "./spec.ts";
import { compileWildcard, matchWildcard } from "./wildcard.ts";

export const RELATIONS: readonly Relation[] = ["gt", "ge", "lt", "le", "eq", "ne"];

function holds(relation: Relation, c: number): boolean {
  switch (relation) {
    case "gt":
      return c > 0;
    case "ge":
      return c >= 0;
    case "lt":
      return c < 0;
    case "le":
      return c <= 0;
    case "eq":
      return c === 0;
    case "ne":
      return c !== 0;
  }
}

function equal(cmp: Comparator, a: string, b: string): boolean {
  return cmp.name === "i;ascii-numeric" ? cmp.compare(a, b) === 0 : cmp.fold(a) === cmp.fold(b);
}

/**
 * True when any value matches any key. On a successful :matches or :regex the match variables are
 * replaced (RFC 5229 3.2); other match types leave them alone.
 */
export function matchValues(
  rt: Runtime,
  pos: Pos,
  spec: MatchSpec,
  values: string[],
  keys: string[],
): boolean {
  const cmp = spec.comparator;
  switch (spec.type) {
    case "count": {
      // RFC 5231 4.2: the count is compared to each key using the comparator's ordering.
      const count = String(values.length);
      return keys.some((k) => {
        rt.step(pos);
        return holds(spec.relation as Relation, cmp.compare(count, k));
      });
    }
    case "list":
      for (const v of values) {
        for (const list of keys) {
          rt.step(pos);
          if (rt.env.lists(list, v)) return true;
        }
      }
      return false;
    default:
      break;
  }
  // Fold each value once, not once per key: values can be multi-megabyte bodies.
  const folded: (string | undefined)[] = [];
  const foldedAt = (i: number): string => (folded[i] ??= cmp.fold(values[i] as string));
  for (const key of keys) {
    const prepared = prepare(rt, pos, spec, key);
    const foldedKey = cmp.fold(key);
    for (let i = 0; i < values.length; i++) {
      const value = values[i] as string;
      rt.step(pos, 1 + Math.floor(value.length / 4096));
      switch (spec.type) {
        case "is":
          if (equal(cmp, value, key)) return true;
          break;
        case "contains":
          if (foldedAt(i).includes(foldedKey)) return true;
          break;
        case "value":
          if (holds(spec.relation as Relation, cmp.compare(value, key))) return true;
          break;
        case "matches": {
          const caps = matchWildcard(prepared as ReturnType<typeof compileWildcard>, value, foldedAt(i));
          if (caps) {
            if (rt.variablesOn) rt.matchVariables = [value, ...caps];
            return true;
          }
          break;
        }
        case "regex": {
          if (value.length > rt.limits.maxRegexInputLength) {
            throw rt.limitError(pos, "maxRegexInputLength", `regex input of ${value.length} characters`);
          }
          const rx = prepared as ReturnType<Runtime["regex"]>;
          const caps = execRegex(rx, value);
          if (caps) {
            if (rt.variablesOn) rt.matchVariables = caps;
            return true;
          }
          break;
        }
      }
    }
  }
  return false;
}

function prepare(rt: Runtime, pos: Pos, spec: MatchSpec, key: string): unknown {
  if (spec.type === "matches") {
    // Loops test the same patterns against every part: compile each once per run.
    const cacheKey = spec.comparator.name + "\0" + key;
    let w = rt.wildcards.get(cacheKey);
    if (!w) {
      w = compileWildcard(key, spec.comparator.fold);
      if (rt.wildcards.size < 1024) rt.wildcards.set(cacheKey, w);
    }
    return w;
  }
  if (spec.type === "regex") return rt.regex(pos, key, spec.comparator.name === "i;ascii-casemap");
  return null;
}
