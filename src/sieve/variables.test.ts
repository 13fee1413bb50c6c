// Variable-reference parsing, encoded-character decoding and set modifiers.
import { describe, expect, it } from "vitest";
import { applyModifiers, decodeEncodedCharacters, parseVariableParts } from "./variables.ts";

describe("parseVariableParts", () => {
  it("splits references from literal text", () => {
    expect(parseVariableParts("a${B}c${1}")).toEqual(["a", { variable: "b" }, "c", { variable: "1" }]);
    expect(parseVariableParts("${ns.name}")).toEqual([{ variable: "ns.name" }]);
    expect(parseVariableParts("no refs")).toBeNull();
    expect(parseVariableParts("${}")).toBeNull();
    expect(parseVariableParts("${a b}")).toBeNull();
    expect(parseVariableParts("${1a}")).toBeNull();
  });
  it("stays linear on hostile input", () => {
    const start = performance.now();
    expect(parseVariableParts("${".repeat(200_000) + "a}")).toEqual([
      "${".repeat(199_999),
      { variable: "a" },
    ]);
    expect(performance.now() - start).toBeLessThan(1000);
  });
});

describe("decodeEncodedCharacters", () => {
  it("decodes hex octets as UTF-8 and unicode code points", () => {
    expect(decodeEncodedCharacters("${hex:E2 98 BA}")).toBe("\u263a");
    expect(decodeEncodedCharacters("${unicode:1F600}")).toBe("\u{1F600}");
    expect(decodeEncodedCharacters("${HEX: 40 }x")).toBe("@x");
    expect(decodeEncodedCharacters("${hex:123}")).toBe("${hex:123}");
    expect(decodeEncodedCharacters("${unicode:D800}")).toBeNull();
  });
});

describe("applyModifiers", () => {
  it("applies by precedence whatever the written order", () => {
    expect(applyModifiers("hello World", ["length", "upper"])).toBe("11");
    expect(applyModifiers("a*b?", ["quotewildcard", "upperfirst"])).toBe("A\\*b\\?");
    expect(applyModifiers("", ["upperfirst"])).toBe("");
    expect(applyModifiers("\u{1F600}x", ["length"])).toBe("2");
  });
});
