import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { REPLIES, reply, ReplyError, withRef } from "./replies.ts";
import { renderReplyTable, withReplyTable } from "./reply-table.ts";

describe("reply catalogue", () => {
  it("the README's table is the catalogue's (run node scripts/reply-table.ts after a change)", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    expect(readme).toContain(renderReplyTable());
    expect(withReplyTable(readme)).toBe(readme);
  });

  it("every reply's code and enhanced code agree in class (2/4/5), as RFC 3463 requires", () => {
    for (const [name, r] of Object.entries(REPLIES)) {
      if (!r.enhanced) continue;
      expect([name, r.enhanced[0]]).toEqual([name, String(r.code)[0]]);
      expect(r.enhanced).toMatch(/^[245]\.\d{1,3}\.\d{1,3}$/);
    }
  });

  it("appends the reference id once and fills {ref}", () => {
    expect(reply("storeDown", { ref: "M1" }).text).toBe(
      "Temporary storage failure, try again later [ref M1]",
    );
    expect(reply("queued", { ref: "M1" }).text).toBe("Ok: queued as M1");
    expect(withRef("x [ref M1]", "M1")).toBe("x [ref M1]");
    const e = new ReplyError("relayDenied");
    expect([e.reply.code, e.code, e.enhanced, e.message]).toEqual([550, 550, "5.7.1", "Relay access denied"]);
  });
});
