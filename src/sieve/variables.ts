// String-level rules of RFC 5229 (variable references, names, set modifiers) and RFC 5228 2.4.2.4
// encoded-character decoding. Not storage: the runtime owns variable values and enforces limits.

import type { TagSpec } from "./spec.ts";
import type { StringPart } from "./values.ts";

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A name `set` may assign: an identifier, or "global.identifier" when include is on (RFC 6609 3.5). */
export function isValidVariableName(name: string, globalNamespace = false): boolean {
  if (globalNamespace && name.toLowerCase().startsWith("global.")) return IDENT.test(name.slice(7));
  return IDENT.test(name);
}

function isReference(name: string): boolean {
  if (/^[0-9]+$/.test(name)) return true;
  return name.split(".").every((p) => IDENT.test(p));
}

/**
 * Splits a string into literal text and variable references; returns null when it has none.
 * A "${" that does not form a valid reference stays literal text (RFC 5229 3).
 */
export function parseVariableParts(text: string): StringPart[] | null {
  if (!text.includes("${")) return null;
  const parts: StringPart[] = [];
  let literal = "";
  let i = 0;
  let found = false;
  while (i < text.length) {
    const start = text.indexOf("${", i);
    if (start < 0) break;
    // Scan only name characters, so "${${${..." without "}" stays linear instead of quadratic.
    let end = start + 2;
    while (end < text.length && /[A-Za-z0-9_.]/.test(text[end] as string)) end++;
    const name = text.slice(start + 2, end);
    if (text[end] === "}" && isReference(name)) {
      literal += text.slice(i, start);
      if (literal) parts.push(literal);
      literal = "";
      parts.push({ variable: name.toLowerCase() });
      found = true;
      i = end + 1;
    } else {
      // Not a reference: keep "${" literally and rescan after it, so "${${a}}" still expands ${a}.
      literal += text.slice(i, start + 2);
      i = start + 2;
    }
  }
  literal += text.slice(i);
  if (literal) parts.push(literal);
  return found ? parts : null;
}

/**
 * RFC 5228 2.4.2.4: "${hex: 41 42}" and "${unicode: 263a}" become characters. Malformed sequences are
 * left as they are; returns null when a unicode value is not a valid code point (a compile error).
 */
export function decodeEncodedCharacters(text: string): string | null {
  let bad = false;
  const out = text.replace(/\$\{(hex|unicode):([\s0-9A-Fa-f]*)\}/gi, (whole, kind: string, body: string) => {
    const items = body.trim() === "" ? [] : body.trim().split(/\s+/);
    if (kind.toLowerCase() === "hex") {
      if (items.some((h) => h.length > 2)) return whole;
      return Buffer.from(items.map((h) => parseInt(h, 16))).toString("utf8");
    }
    let s = "";
    for (const h of items) {
      if (h.length > 6) return whole;
      const cp = parseInt(h, 16);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        bad = true;
        return whole;
      }
      s += String.fromCodePoint(cp);
    }
    return s;
  });
  return bad ? null : out;
}

export const SET_MODIFIERS = {
  lower: 40,
  upper: 40,
  lowerfirst: 30,
  upperfirst: 30,
  quotewildcard: 20,
  /** draft-ietf-sieve-regex 5: only with "regex" required. */
  quoteregex: 20,
  /** RFC 5435 6: only with "enotify" required. */
  encodeurl: 15,
  length: 10,
} as const;

export type SetModifier = keyof typeof SET_MODIFIERS;

const MODIFIER_CAPABILITY: Record<string, string> = { quoteregex: "regex", encodeurl: "enotify" };

/** The modifier tags of set and extracttext. */
export const MODIFIER_TAGS: TagSpec[] = Object.entries(SET_MODIFIERS).map(([name, precedence]) => ({
  name,
  // Same precedence = same group, so ":lower :upper" is rejected as RFC 5229 4.1 requires.
  group: `modifier-${precedence}`,
  capability: MODIFIER_CAPABILITY[name],
}));

/** Applies modifiers highest precedence first, as RFC 5229 4.1 orders them. */
export function applyModifiers(value: string, modifiers: SetModifier[]): string {
  const ordered = [...modifiers].sort((a, b) => SET_MODIFIERS[b] - SET_MODIFIERS[a]);
  let v = value;
  for (const m of ordered) {
    switch (m) {
      case "lower":
        v = v.toLowerCase();
        break;
      case "upper":
        v = v.toUpperCase();
        break;
      case "lowerfirst":
        v = firstChar(v).toLowerCase() + v.slice(firstChar(v).length);
        break;
      case "upperfirst":
        v = firstChar(v).toUpperCase() + v.slice(firstChar(v).length);
        break;
      case "quoteregex":
        v = v.replace(/[\\^$.|?*+()[\]{}]/g, (c) => "\\" + c);
        break;
      case "quotewildcard":
        v = v.replace(/[*?\\]/g, (c) => "\\" + c);
        break;
      case "encodeurl":
        // RFC 5435 6: percent-encode everything but RFC 3986 unreserved characters, as UTF-8.
        v = Array.from(Buffer.from(v, "utf8"))
          .map((b) =>
            /[A-Za-z0-9\-._~]/.test(String.fromCharCode(b))
              ? String.fromCharCode(b)
              : "%" + b.toString(16).toUpperCase().padStart(2, "0"),
          )
          .join("");
        break;
      case "length":
        v = String(Array.from(v).length);
        break;
    }
  }
  return v;
}

function firstChar(v: string): string {
  const cp = v.codePointAt(0);
  return cp === undefined ? "" : String.fromCodePoint(cp);
}
