// Reading DNS list answers: return-code maps, bits, what is refused and what is no answer at all,
// TXT reasons; property tests that no answer, however malformed, is ever a wrong listing or a throw.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { compileCode, meaningOf, txtReason, type AnswerRules } from "./zone-answer.ts";

const rules = (extra: Partial<AnswerRules> = {}): AnswerRules => ({
  zone: "zen.test",
  symbol: "RBL_ZEN",
  score: 2,
  codes: [
    { pattern: "127.0.0.2", match: compileCode("127.0.0.2"), rule: { symbol: "RBL_ZEN_SBL", score: 4 } },
    { pattern: "127.0.0.10", match: compileCode("127.0.0.10"), rule: { symbol: "RBL_ZEN_PBL", score: 1 } },
    { pattern: "127.0.0.11", match: compileCode("127.0.0.11"), rule: { symbol: "RBL_ZEN_PBL" } },
  ],
  bits: [],
  refused: [],
  ...extra,
});

describe("return codes", () => {
  it("matches exact codes, CIDRs and * octets", () => {
    expect(compileCode("127.0.0.2")("127.0.0.2")).toBe(true);
    expect(compileCode("127.0.0.2")("127.0.0.3")).toBe(false);
    expect(compileCode("127.0.1.0/24")("127.0.1.104")).toBe(true);
    expect(compileCode("127.0.1.0/24")("127.0.2.1")).toBe(false);
    expect(compileCode("127.0.*.3")("127.0.15.3")).toBe(true);
    expect(compileCode("127.0.*.3")("127.0.15.2")).toBe(false);
    for (const bad of ["127.0.0", "127.0.0.256", "127.0.0.0/33", "x", "127.0.0.2/8/1", ""])
      expect(() => compileCode(bad), bad).toThrow(/not a return code/);
  });

  it("names each code's symbol once, with the zone's symbol and score for unmapped codes", () => {
    expect(meaningOf(rules(), ["127.0.0.2", "127.0.0.10", "127.0.0.11", "127.0.0.4", "127.0.0.2"])).toEqual({
      hits: [
        { symbol: "RBL_ZEN_SBL", score: 4, code: "127.0.0.2" },
        { symbol: "RBL_ZEN_PBL", score: 1, code: "127.0.0.10" },
        { symbol: "RBL_ZEN", score: 2, code: "127.0.0.4" },
      ],
      refused: [],
      malformed: [],
    });
  });

  it("reads SURBL/URIBL bits of the last octet", () => {
    const r = rules({
      codes: [],
      bits: [
        { mask: 2, rule: { symbol: "URIBL_BLACK", score: 5 } },
        { mask: 4, rule: { symbol: "URIBL_GREY", score: 1 } },
      ],
    });
    expect(meaningOf(r, ["127.0.0.6"]).hits.map((h) => h.symbol)).toEqual(["URIBL_BLACK", "URIBL_GREY"]);
    expect(meaningOf(r, ["127.0.0.8"]).hits.map((h) => h.symbol)).toEqual(["RBL_ZEN"]);
  });

  it("ignores refusals (127.255.255.x, 127.0.0.1, configured) and answers that are no listing", () => {
    const r = rules({ refused: [compileCode("127.0.1.255")] });
    expect(meaningOf(r, ["127.255.255.254", "127.255.255.252", "127.0.0.1", "127.0.1.255"])).toEqual({
      hits: [],
      refused: ["127.255.255.254", "127.255.255.252", "127.0.0.1", "127.0.1.255"],
      malformed: [],
    });
    expect(meaningOf(r, ["192.0.2.1", "::1", 42, null, { a: 1 }, "127.000.000.002"])).toMatchObject({
      hits: [],
      malformed: ["192.0.2.1", "::1", "42", "null", '{"a":1}', "127.000.000.002"],
    });
    // A refusal next to a listing: the listing counts.
    expect(meaningOf(r, ["127.255.255.255", "127.0.0.2"]).hits).toHaveLength(1);
    expect(meaningOf(r, Array(40).fill("127.0.0.2")).malformed).toEqual(["8 more records ignored"]);
  });

  it("never throws and never counts a refusal or an outside answer as a listing (property)", () => {
    const anyRecord = fc.oneof(
      fc.ipV4(),
      fc.ipV6(),
      fc.string(),
      fc.integer(),
      fc.constant(null),
      fc.constant(undefined),
      fc.array(fc.string(), { maxLength: 3 }),
      fc.tuple(fc.constant(127), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join(".")),
    );
    fc.assert(
      fc.property(fc.array(anyRecord, { maxLength: 50 }), (records) => {
        const m = meaningOf(rules({ bits: [{ mask: 2, rule: { symbol: "B" } }] }), records);
        for (const h of m.hits) {
          expect(h.code.startsWith("127.")).toBe(true);
          expect(h.code.startsWith("127.255.255.")).toBe(false);
          expect(h.code).not.toBe("127.0.0.1");
          expect(records).toContain(h.code);
        }
        expect(new Set(m.hits.map((h) => h.symbol)).size).toBe(m.hits.length);
        for (const s of m.malformed) expect(s).toMatch(/^[\x20-\x7e]{0,64}$/);
      }),
    );
  });
});

describe("TXT reasons", () => {
  it("joins character-strings, keeps printable ASCII, cuts long text", () => {
    expect(txtReason([["Listed: ", "see https://lists.test/q/127.0.0.2"]])).toBe(
      "Listed: see https://lists.test/q/127.0.0.2",
    );
    expect(txtReason([["a\r\nb\u0000c\u00e9d"]])).toBe("a b c d");
    const huge = txtReason([Array(64).fill("x".repeat(255))]);
    expect(huge).toHaveLength(200);
    expect(huge.endsWith("...")).toBe(true);
    expect(txtReason(undefined)).toBe("");
    expect(txtReason([])).toBe("");
    expect(txtReason([[1, 2]])).toBe("");
  });

  it("is always short printable text whatever the answer (property)", () => {
    const txt = fc.oneof(
      fc.array(fc.array(fc.string({ unit: "binary", maxLength: 300 }), { maxLength: 5 }), { maxLength: 3 }),
      fc.anything(),
    );
    fc.assert(
      fc.property(txt, fc.integer({ min: 10, max: 300 }), (t, max) => {
        const r = txtReason(t, max);
        expect(r.length).toBeLessThanOrEqual(max);
        expect(r).toMatch(/^[\x20-\x7e]*$/);
      }),
    );
  });
});
