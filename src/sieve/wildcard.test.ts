// :matches wildcards and their RFC 5229 captures.
import { describe, expect, it } from "vitest";
import { asciiLower } from "./comparator.ts";
import { compileWildcard, matchWildcard } from "./wildcard.ts";

const m = (pattern: string, text: string, fold: (s: string) => string = (s) => s): string[] | null =>
  matchWildcard(compileWildcard(pattern, fold), text, fold(text));

describe("wildcard matching", () => {
  it.each([
    ["abc", "abc", []],
    ["a?c", "abc", ["b"]],
    ["*", "", [""]],
    ["*", "anything", ["anything"]],
    ["a*", "abc", ["bc"]],
    ["*c", "abc", ["ab"]],
    ["a*c*e", "abcde", ["b", "d"]],
    ["[*] *", "[acme-users] [fwd] version 1.0", ["acme-users", "[fwd] version 1.0"]],
    ["coyote@**.com", "coyote@ACME.Example.COM", null],
    ["*?*", "xy", ["", "x", "y"]],
    ["a\\*b", "a*b", []],
    ["a\\?b", "a?b", []],
    ["\\\\", "\\", []],
    ["*x*", "abc", null],
    ["ab", "abc", null],
    ["a*b*c", "acb", null],
    ["?", "\u{1F600}", ["\u{1F600}"]],
  ])("%j on %j", (pattern, text, expected) => {
    expect(m(pattern, text)).toEqual(expected);
  });

  it("folds case for i;ascii-casemap but captures the original text", () => {
    expect(m("coyote@**.com", "coyote@ACME.Example.COM", asciiLower)).toEqual(["", "ACME.Example"]);
    expect(m("HELLO *", "hello World", asciiLower)).toEqual(["World"]);
  });

  it("does not let the last segment overlap a middle one", () => {
    expect(m("*ab*ba", "aba")).toBeNull();
    expect(m("*ab*ba", "abba")).toEqual(["", ""]);
  });
});
