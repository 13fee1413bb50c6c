// RFC 4515 escaping and template rendering; the real-directory injection tests are in
// test/integration/ldap-directory.test.ts.
import { describe, expect, it } from "vitest";
import { escapeFilterValue, renderFilter } from "./filter.ts";

describe("escapeFilterValue", () => {
  it("escapes the five RFC 4515 characters and nothing else", () => {
    expect(escapeFilterValue("a*b(c)d\\e\0f")).toBe("a\\2ab\\28c\\29d\\5ce\\00f");
    expect(escapeFilterValue("山田@例え.jp")).toBe("山田@例え.jp");
    expect(escapeFilterValue("plain.user+tag@example.com")).toBe("plain.user+tag@example.com");
  });
});

describe("renderFilter", () => {
  const t = "(|(mail={address})(mailAlternateAddress={address}))";
  it("fills every placeholder with the lower-cased, escaped value", () => {
    expect(renderFilter(t, "Alice@Example.COM")).toBe(
      "(|(mail=alice@example.com)(mailAlternateAddress=alice@example.com))",
    );
    expect(renderFilter("(&(uid={local})(dc={domain}))", "bob@example.com")).toBe(
      "(&(uid=bob)(dc=example.com))",
    );
  });
  it("keeps an injection attempt inside the assertion value", () => {
    expect(renderFilter("(mail={address})", "*)(uid=*")).toBe("(mail=\\2a\\29\\28uid=\\2a)");
    expect(renderFilter("(mail={address})", "x@y.z)(|(mail=*")).toBe("(mail=x@y.z\\29\\28|\\28mail=\\2a)");
  });
  it("treats $-patterns in values literally", () => {
    expect(renderFilter("(mail={address})", "$&$1@x.org")).toBe("(mail=$&$1@x.org)");
  });
});
