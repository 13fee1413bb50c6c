// Lexical forms of RFC 5228 8.1 and lexer error positions.
import { describe, expect, it } from "vitest";
import { SieveSyntaxError } from "./errors.ts";
import { tokenize } from "./lexer.ts";

const kinds = (src: string): string[] =>
  tokenize(src).map((t) => `${t.kind}:${t.kind === "number" ? t.value : t.text}`);

describe("tokenize", () => {
  it("reads identifiers case-insensitively, tags, punctuation", () => {
    expect(kinds('IF :Contains ["a", "b"] { }')).toEqual([
      "identifier:if",
      "tag:contains",
      "punct:[",
      "string:a",
      "punct:,",
      "string:b",
      "punct:]",
      "punct:{",
      "punct:}",
      "eof:",
    ]);
  });

  it("skips hash and bracket comments, including multi-line ones", () => {
    expect(kinds("keep; # trailing\n/* a\n * b */ stop;")).toEqual([
      "identifier:keep",
      "punct:;",
      "identifier:stop",
      "punct:;",
      "eof:",
    ]);
  });

  it("applies K, M and G quantifiers", () => {
    expect(tokenize("1 10K 2m 1G").map((t) => t.value)).toEqual([1, 10240, 2 * 1024 * 1024, 1024 ** 3, 0]);
  });

  it('unescapes quoted strings: \\" and \\\\ and drops other backslashes', () => {
    const [t] = tokenize('"a\\"b\\\\c\\d"');
    expect(t?.text).toBe('a"b\\cd');
  });

  it("keeps line breaks inside quoted strings", () => {
    expect(tokenize('"a\r\nb"')[0]?.text).toBe("a\r\nb");
  });

  it("reads text: strings with dot-stuffing and CRLF line ends", () => {
    const src = "text: # comment\nline one\n..dotted\n.\n;";
    const [t, semi] = tokenize(src);
    expect(t?.multiline).toBe(true);
    expect(t?.text).toBe("line one\r\n.dotted\r\n");
    expect(semi?.text).toBe(";");
  });

  it("accepts CRLF sources for text: strings", () => {
    expect(tokenize("text:\r\nhello\r\n.\r\n")[0]?.text).toBe("hello\r\n");
  });

  it("tracks line and column", () => {
    const toks = tokenize('keep;\n  discard;\n\t"x"');
    expect(toks.map((t) => [t.pos.line, t.pos.column])).toEqual([
      [1, 1],
      [1, 5],
      [2, 3],
      [2, 10],
      [3, 2],
      [3, 5],
    ]);
  });

  const errorCases: [string, string, number, number][] = [
    ['"abc', "unterminated string", 1, 1],
    ["keep; /* open", "unterminated bracket comment", 1, 7],
    ["text:\nabc\n", "unterminated multi-line string", 1, 1],
    ["text: x\n.\n", 'expected end of line after "text:"', 1, 7],
    ["12ab", 'unexpected "a" in number', 1, 3],
    ["keep; @", 'unexpected character "@"', 1, 7],
    [": x", 'expected tag name after ":"', 1, 1],
    ["99999999999999999999", "number too large", 1, 1],
  ];
  it.each(errorCases)("rejects %j with position", (src, message, line, column) => {
    try {
      tokenize(src);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(SieveSyntaxError);
      const e = err as SieveSyntaxError;
      expect(e.message).toContain(message);
      expect([e.line, e.column]).toEqual([line, column]);
    }
  });
});
