import { describe, it, expect } from "vitest";
import { parseHeaderSection } from "./headers.ts";
import { applyEdits } from "./rewrite.ts";

describe("header edits", () => {
  const h = parseHeaderSection(
    Buffer.from("Received: a\r\nSubject: hi\r\nX-Spam-Flag: NO\r\nX-Spam-Flag: maybe\r\nFrom: x@y\r\n"),
  );

  it("adds at the end or the top, sets in place, deletes every field of a name", () => {
    const out = applyEdits(h, [
      { op: "delete", name: "x-spam-flag" },
      { op: "add", name: "X-Spam-Flag", value: "YES" },
      { op: "set", name: "Subject", value: "[SPAM] hi" },
      { op: "add", name: "Received", value: "by us", top: true },
    ]);
    expect(out.toBuffer().toString()).toBe(
      "Received: by us\r\nReceived: a\r\nSubject: [SPAM] hi\r\nFrom: x@y\r\nX-Spam-Flag: YES\r\n",
    );
  });

  it("deletes only the n-th field of a name when an index is given", () => {
    const out = applyEdits(h, [{ op: "delete", name: "X-Spam-Flag", index: 2 }]);
    expect(out.all("X-Spam-Flag").map((f) => f.raw.toString())).toEqual(["X-Spam-Flag: NO\r\n"]);
  });

  it("never lets a value inject a new header field", () => {
    const out = applyEdits(h, [{ op: "add", name: "X-Test", value: "a\r\nBcc: victim@x\nEvil: 1\rz" }]);
    expect(out.all("Bcc")).toEqual([]);
    expect(out.all("Evil")).toEqual([]);
    expect(out.get("X-Test")).toBe("a Bcc: victim@x Evil: 1 z");
  });
});
