// Turns Sieve source (RFC 5228 section 8.1) into tokens with line/column positions.
// Not a parser: it knows nothing about commands; it only rejects malformed lexical forms.

import { SieveSyntaxError } from "./errors.ts";
import type { Pos } from "./ast.ts";

export type TokenKind = "identifier" | "tag" | "number" | "string" | "punct" | "eof";

export interface Token {
  kind: TokenKind;
  /** Identifier/tag name (lower-cased), string contents, punctuation character. */
  text: string;
  /** For numbers: the value with its K/M/G quantifier applied. */
  value: number;
  /** For strings: true for `text:` multi-line strings. */
  multiline: boolean;
  pos: Pos;
}

const PUNCT = new Set(["[", "]", "(", ")", "{", "}", ",", ";"]);
const QUANTIFIERS: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

function isAlpha(c: string): boolean {
  return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_";
}
function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}

/** Describes a token the way error messages quote it. */
export function describeToken(t: Token): string {
  switch (t.kind) {
    case "eof":
      return "end of script";
    case "identifier":
      return `identifier "${t.text}"`;
    case "tag":
      return `tag ":${t.text}"`;
    case "number":
      return `number ${t.value}`;
    case "string":
      return "string";
    case "punct":
      return `"${t.text}"`;
  }
}

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let col = 1;
  const n = source.length;

  const advance = (count: number): void => {
    for (let k = 0; k < count; k++) {
      if (source[i] === "\n") {
        line++;
        col = 1;
      } else {
        col++;
      }
      i++;
    }
  };
  const push = (kind: TokenKind, text: string, pos: Pos, value = 0, multiline = false): void => {
    tokens.push({ kind, text, value, multiline, pos });
  };

  while (i < n) {
    const c = source[i] as string;
    const pos = { line, column: col };
    if (c === " " || c === "\t" || c === "\r" || c === "\n") {
      advance(1);
    } else if (c === "#") {
      while (i < n && source[i] !== "\n") advance(1);
    } else if (c === "/" && source[i + 1] === "*") {
      const end = source.indexOf("*/", i + 2);
      if (end < 0)
        throw new SieveSyntaxError(pos.line, pos.column, 'unterminated bracket comment, expected "*/"');
      advance(end + 2 - i);
    } else if (PUNCT.has(c)) {
      push("punct", c, pos);
      advance(1);
    } else if (c === '"') {
      push("string", readQuoted(), pos);
    } else if (c === ":") {
      advance(1);
      if (i >= n || !isAlpha(source[i] as string)) {
        throw new SieveSyntaxError(pos.line, pos.column, 'expected tag name after ":"');
      }
      push("tag", readIdentifier().toLowerCase(), pos);
    } else if (isDigit(c)) {
      const start = i;
      while (i < n && isDigit(source[i] as string)) advance(1);
      let value = Number(source.slice(start, i));
      const q = QUANTIFIERS[(source[i] ?? "").toLowerCase()];
      if (q !== undefined) {
        value *= q;
        advance(1);
      }
      if (i < n && (isAlpha(source[i] as string) || isDigit(source[i] as string))) {
        throw new SieveSyntaxError(line, col, `unexpected "${source[i]}" in number`);
      }
      if (!Number.isSafeInteger(value)) throw new SieveSyntaxError(pos.line, pos.column, "number too large");
      push("number", source.slice(start, i), pos, value);
    } else if (isAlpha(c)) {
      const word = readIdentifier();
      if (word.toLowerCase() === "text" && source[i] === ":") {
        advance(1);
        push("string", readMultiline(pos), pos, 0, true);
      } else {
        push("identifier", word.toLowerCase(), pos);
      }
    } else {
      throw new SieveSyntaxError(pos.line, pos.column, `unexpected character ${JSON.stringify(c)}`);
    }
  }
  push("eof", "", { line, column: col });
  return tokens;

  function readIdentifier(): string {
    const start = i;
    while (i < n && (isAlpha(source[i] as string) || isDigit(source[i] as string))) advance(1);
    return source.slice(start, i);
  }

  function readQuoted(): string {
    const start = { line, column: col };
    advance(1);
    let out = "";
    while (i < n) {
      const ch = source[i] as string;
      if (ch === '"') {
        advance(1);
        return out;
      }
      if (ch === "\\" && i + 1 < n) {
        // RFC 5228 2.4.2: "\\" and "\"" are the escapes; any other backslash is dropped.
        out += source[i + 1];
        advance(2);
        continue;
      }
      out += ch;
      advance(1);
    }
    throw new SieveSyntaxError(start.line, start.column, 'unterminated string, expected closing "\\""');
  }

  function readMultiline(start: Pos): string {
    // After "text:" only whitespace or a hash comment may follow on the same line.
    while (i < n && (source[i] === " " || source[i] === "\t")) advance(1);
    if (source[i] === "#") {
      while (i < n && source[i] !== "\n") advance(1);
    }
    if (source[i] === "\r") advance(1);
    if (source[i] !== "\n") {
      throw new SieveSyntaxError(line, col, 'expected end of line after "text:"');
    }
    advance(1);
    const lines: string[] = [];
    while (i < n) {
      let end = source.indexOf("\n", i);
      if (end < 0) end = n;
      let text = source.slice(i, end);
      if (text.endsWith("\r")) text = text.slice(0, -1);
      advance(Math.min(end + 1, n) - i);
      if (text === ".") return lines.map((l) => l + "\r\n").join("");
      // Dot-stuffing: a line starting with "." had an extra "." added by the author.
      lines.push(text.startsWith(".") ? text.slice(1) : text);
    }
    throw new SieveSyntaxError(start.line, start.column, 'unterminated multi-line string, expected "." line');
  }
}
