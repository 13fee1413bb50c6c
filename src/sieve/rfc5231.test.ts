// RFC 5231 (relational) examples, including the section 6 message and its expected truth values.
import { describe, expect, it } from "vitest";
import { run } from "../../test/helpers/sieve.ts";

const MESSAGE = [
  "Received: ...",
  "Received: ...",
  "Subject: example",
  "To: foo@example.com.invalid, baz@example.com.invalid",
  "CC: qux@example.com.invalid",
  "",
  "body",
  "",
].join("\r\n");

const truth = (test: string, message = MESSAGE): boolean =>
  run(`require ["relational", "comparator-i;ascii-numeric"]; if ${test} { discard; }`, message).actions
    .length === 1;

describe("RFC 5231 relational", () => {
  it("section 6 examples", () => {
    expect(truth('address :count "ge" :comparator "i;ascii-numeric" ["to", "cc"] ["3"]')).toBe(true);
    expect(
      truth(`anyof ( address :count "ge" :comparator "i;ascii-numeric" ["to"] ["3"],
                     address :count "ge" :comparator "i;ascii-numeric" ["cc"] ["3"] )`),
    ).toBe(false);
    expect(truth('header :count "ge" :comparator "i;ascii-numeric" ["received"] ["3"]')).toBe(false);
    expect(truth('header :count "ge" :comparator "i;ascii-numeric" ["received", "subject"] ["3"]')).toBe(
      true,
    );
    expect(truth('header :count "ge" :comparator "i;ascii-numeric" ["to", "cc"] ["3"]')).toBe(false);
  });

  it("section 5 example script", () => {
    const src = `require ["relational", "comparator-i;ascii-numeric", "fileinto"];
      if header :value "lt" :comparator "i;ascii-numeric" ["x-priority"] ["3"] { fileinto "Priority"; }
      elsif address :count "gt" :comparator "i;ascii-numeric" ["to"] ["5"] { fileinto "SPAM"; }
      elsif address :value "gt" :all :comparator "i;ascii-casemap" ["from"] ["M"] { fileinto "From N-Z"; }
      else { fileinto "From A-M"; }
      if allof ( address :count "eq" :comparator "i;ascii-numeric" ["to", "cc"] ["1"] ,
                 address :all :comparator "i;ascii-casemap" ["to", "cc"] ["me@foo.example.com"] ) {
        fileinto "Only me";
      }`;
    const folder = (headers: string[]): string[] =>
      run(src, headers.join("\r\n") + "\r\n\r\nx").actions.map((a) =>
        a.type === "fileinto" ? a.folder : a.type,
      );
    expect(folder(["X-Priority: 1", "From: zed@x.org", "To: me@foo.example.com"])).toEqual([
      "Priority",
      "Only me",
    ]);
    expect(folder(["X-Priority: 10", "From: zed@x.org", "To: a@x, b@x, c@x, d@x, e@x, f@x"])).toEqual([
      "SPAM",
    ]);
    expect(folder(["From: Zed@x.org", "To: a@x, me@foo.example.com"])).toEqual(["From N-Z"]);
    expect(folder(["From: adam@x.org", "To: me@foo.example.com"])).toEqual(["From A-M", "Only me"]);
  });

  it("i;ascii-numeric treats non-numbers as positive infinity", () => {
    const m = "X-Score: abc\r\nX-N: 0042\r\n\r\n";
    expect(
      truth('header :value "gt" :comparator "i;ascii-numeric" "x-score" "99999999999999999999999"', m),
    ).toBe(true);
    expect(truth('header :value "eq" :comparator "i;ascii-numeric" "x-n" "42"', m)).toBe(true);
    expect(truth('header :value "ne" :comparator "i;ascii-numeric" "x-n" "42"', m)).toBe(false);
    expect(truth('header :value "le" :comparator "i;ascii-numeric" "x-n" "41"', m)).toBe(false);
  });

  it(":count of a missing header is 0", () => {
    expect(truth('header :count "eq" :comparator "i;ascii-numeric" "x-none" "0"')).toBe(true);
  });
});
