import { describe, it, expect } from "vitest";
import { encodeCharset } from "../../test/helpers/charsets.ts";
import { parseHeaderSection, unfold, fieldValueFolded } from "./headers.ts";

describe("header list", () => {
  const raw = Buffer.from(
    "Received: from a\r\n\tby b\r\nSubject: =?ISO-2022-JP?B?" +
      encodeCharset("日本語の件名", "ISO-2022-JP").toString("base64") +
      "?=\r\nReceived: from c\r\nX-Empty:\r\nno colon here\r\nFrom: A <a@x.org>\r\n",
  );
  const h = parseHeaderSection(raw);

  it("keeps order, duplicates and exact bytes", () => {
    expect(h.fields.map((f) => f.name)).toEqual(["Received", "Subject", "Received", "X-Empty", "", "From"]);
    expect(h.toBuffer().equals(raw)).toBe(true);
    expect(h.all("received").length).toBe(2);
  });

  it("gives folded and unfolded views", () => {
    const f = h.all("Received")[0]!;
    expect(fieldValueFolded(f)).toBe("from a\r\n\tby b");
    expect(unfold(fieldValueFolded(f))).toBe("from a\tby b");
    expect(h.get("Received")).toBe("from a\tby b");
  });

  it("decodes RFC 2047 in ISO-2022-JP on demand", () => {
    expect(h.get("Subject")).toMatch(/^=\?ISO-2022-JP\?B\?/);
    expect(h.decoded("Subject")).toBe("日本語の件名");
  });

  it("marks lines without a field name as malformed instead of dropping them", () => {
    const bad = h.fields[4]!;
    expect(bad.malformed).toBe(true);
    expect(bad.raw.toString()).toBe("no colon here\r\n");
    expect(h.entries().map((e) => e.name)).not.toContain("");
  });

  it("returns null for absent fields and handles LF-only input", () => {
    const lf = parseHeaderSection(Buffer.from("A: 1\nB: 2\n continued\n"));
    expect(lf.get("B")).toBe("2 continued");
    expect(lf.get("C")).toBeNull();
  });
});
