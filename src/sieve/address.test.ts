// Address-list parsing and address parts (RFC 5228 2.7.4, RFC 5233 user/detail).
import { describe, expect, it } from "vitest";
import { addressPart, parseAddressList } from "./address.ts";

describe("parseAddressList", () => {
  it.each([
    ["a@b.c", ["a@b.c"]],
    ['"Doe, John" <john@example.com>, jane@example.com', ["john@example.com", "jane@example.com"]],
    ["(comment, with comma) x@y.z", ["x@y.z"]],
    ["undisclosed-recipients:;", []],
    ["Team: a@x.org, b@x.org;, c@y.org", ["a@x.org", "b@x.org", "c@y.org"]],
    ['"quoted local"@example.com', ["quoted local@example.com"]],
    ["<@relay.example:user@host.example>", ["user@host.example"]],
    ['"Name <fake@evil>" <real@good.example>', ["real@good.example"]],
  ])("%j", (value, expected) => {
    expect(parseAddressList(value)).toEqual(expected);
  });
});

describe("addressPart", () => {
  it("splits local part, domain, user and detail", () => {
    const a = "ken+mta-filters@example.com";
    expect(["all", "localpart", "domain", "user", "detail"].map((p) => addressPart(a, p as never))).toEqual([
      a,
      "ken+mta-filters",
      "example.com",
      "ken",
      "mta-filters",
    ]);
    expect(addressPart("ken@example.com", "detail")).toBeNull();
    expect(addressPart("ken@example.com", "user")).toBe("ken");
  });
});
