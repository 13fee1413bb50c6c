import { describe, expect, it } from "vitest";
import { HeaderBatch } from "./header-batch.ts";

describe("HeaderBatch", () => {
  it("rebuilds fields as received: LEADSPC values as-is, else the space put back; folds get CRLF", () => {
    const b = new HeaderBatch();
    b.add("Subject", Buffer.from(" hi"), true);
    b.add("X-Fold", Buffer.from(" a\n\tb\r\n c"), true);
    b.add("From", Buffer.from("a@x"), false);
    expect(b.take(true).toString("latin1")).toBe(
      "Subject: hi\r\nX-Fold: a\r\n\tb\r\n c\r\nFrom: a@x\r\n\r\n",
    );
    expect(b.size).toBe(0);
  });

  it("grows past its first buffer, keeps bytes (latin1 names, binary values), and hands out copies", () => {
    const b = new HeaderBatch();
    const big = Buffer.alloc(5000, 0x41);
    b.add("X-Big", big, true);
    b.add("X-Bin", Buffer.from([0xe9, 0x0a, 0x0a]), true);
    const first = b.take(false);
    expect(first.length).toBe(6 + 5000 + 2 + 6 + 1 + 2 + 2 + 2);
    expect(first.subarray(first.length - 13).toString("latin1")).toBe("X-Bin:\u00e9\r\n\r\n\r\n");
    b.add("A", Buffer.from(" 1"), true);
    expect(b.take(true).toString()).toBe("A: 1\r\n\r\n");
    // The first section is unchanged by the reuse of the buffer.
    expect(first.subarray(0, 9).toString()).toBe("X-Big:AAA");
    b.add("B", Buffer.from(" 2"), true);
    b.clear();
    expect(b.take(false).length).toBe(0);
  });
});
