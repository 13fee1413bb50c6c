// RFC 4790 comparators: equality, ordering and which match types each supports.
import { describe, expect, it } from "vitest";
import { COMPARATORS, compareNumeric } from "./comparator.ts";

describe("comparators (RFC 4790)", () => {
  it("i;octet is case-sensitive and orders by code point", () => {
    const c = COMPARATORS["i;octet"];
    expect(c.compare("A", "a")).toBeLessThan(0);
    expect(c.compare("abc", "abc")).toBe(0);
    expect(c.compare("ab", "abc")).toBeLessThan(0);
    // U+FFFD sorts before U+1F600 by code point even though UTF-16 units say otherwise.
    expect(c.compare("\uFFFD", "\u{1F600}")).toBeLessThan(0);
  });

  it("i;ascii-casemap folds ASCII only", () => {
    const c = COMPARATORS["i;ascii-casemap"];
    expect(c.compare("HeLLo", "hello")).toBe(0);
    expect(c.fold("ÄB")).toBe("Äb");
    expect(c.compare("a", "B")).toBeLessThan(0);
  });

  it("i;ascii-numeric compares leading digits; non-numbers are infinity", () => {
    expect(compareNumeric("10", "9")).toBe(1);
    expect(compareNumeric("007", "7")).toBe(0);
    expect(compareNumeric("12abc", "12")).toBe(0);
    expect(compareNumeric("abc", "99999999999999999999999999")).toBe(1);
    expect(compareNumeric("abc", "xyz")).toBe(0);
    expect(compareNumeric("123456789012345678901234567890", "123456789012345678901234567891")).toBe(-1);
    expect(COMPARATORS["i;ascii-numeric"].substring).toBe(false);
  });
});
