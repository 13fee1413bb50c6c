import { describe, expect, it } from "vitest";
import type { DataResult, OutcomeGroup } from "../pipeline/session.ts";
import { planEom, TOP_HEADERS, type EomContext } from "./actions.ts";
import { Act } from "./constants.ts";

const group = (recipients: string[], over: Partial<OutcomeGroup> = {}): OutcomeGroup => ({
  recipients,
  disposition: "deliver",
  edits: [],
  bcc: [],
  redirect: null,
  reason: null,
  holdMinutes: null,
  ...over,
});
const result = (...groups: OutcomeGroup[]): DataResult => ({ reply: null, groups, verdicts: [] });
const ctx = (rcpts: string[], over: Partial<EomContext> = {}): EomContext => ({
  recipients: new Map(rcpts.map((r) => [r, `<${r}>`])),
  headerCounts: new Map(),
  leadSpace: false,
  actions: 0x1ff,
  quarantineMode: "store",
  topHeaders: TOP_HEADERS,
  ...over,
});

describe("planEom", () => {
  it("a pipeline reply becomes REPLYCODE with nothing else", () => {
    const p = planEom(
      { reply: { code: 550, enhanced: "5.7.1", text: "spam" }, groups: [], verdicts: [] },
      ctx(["a@x"]),
    );
    expect(p).toMatchObject({
      kind: "reply",
      final: { type: "replycode", code: 550, enhanced: "5.7.1", text: "spam" },
    });
  });

  it("one deliver group: its edits, bcc and CONTINUE", () => {
    const p = planEom(
      result(
        group(["a@x", "b@x"], {
          edits: [
            { op: "add", name: "X-Spam-Score", value: "1.5" },
            { op: "add", name: "Authentication-Results", value: "mx; spf=pass" },
          ],
          bcc: ["archive@x"],
        }),
      ),
      ctx(["a@x", "b@x"], { leadSpace: true }),
    );
    expect(p).toEqual({
      kind: "accept",
      store: [],
      reinject: [],
      mods: [
        { type: "addheader", name: "X-Spam-Score", value: " 1.5" },
        { type: "insheader", index: 0, name: "Authentication-Results", value: " mx; spf=pass" },
        { type: "addrcpt", rcpt: "<archive@x>" },
      ],
      final: { type: "continue" },
    });
  });

  it("delete removes every occurrence from the last down, counting earlier adds", () => {
    const p = planEom(
      result(
        group(["a@x"], {
          edits: [
            { op: "add", name: "X-Spam", value: "old" },
            { op: "delete", name: "x-spam" },
            { op: "add", name: "X-Spam", value: "yes" },
          ],
        }),
      ),
      ctx(["a@x"], { headerCounts: new Map([["x-spam", 2]]) }),
    );
    expect(p.kind === "accept" && p.mods).toEqual([
      { type: "addheader", name: "X-Spam", value: "old" },
      { type: "chgheader", index: 3, name: "x-spam", value: "" },
      { type: "chgheader", index: 2, name: "x-spam", value: "" },
      { type: "chgheader", index: 1, name: "x-spam", value: "" },
      { type: "addheader", name: "X-Spam", value: "yes" },
    ]);
  });

  it("largest deliver group stays; others are re-injected, stored or dropped with DELRCPT as sent", () => {
    const small = group(["c@x"], { edits: [{ op: "add", name: "X-Tag", value: "1" }] });
    const big = group(["a@x", "b@x"]);
    const q = group(["d@x"], { disposition: "quarantine", reason: "virus" });
    const gone = group(["e@x"], { disposition: "discard" });
    const c = ctx(["a@x", "b@x", "c@x", "d@x", "e@x"]);
    c.recipients = new Map([...c.recipients, ["e@x", "<e@x> "]]);
    const p = planEom(result(small, big, q, gone), c);
    if (p.kind !== "accept") throw new Error("expected accept");
    expect(p.store).toEqual([q]);
    expect(p.reinject).toEqual([small]);
    expect(p.mods).toEqual([
      { type: "delrcpt", rcpt: "<c@x>" },
      { type: "delrcpt", rcpt: "<d@x>" },
      { type: "delrcpt", rcpt: "<e@x> " },
    ]);
    expect(p.final).toEqual({ type: "continue" });
  });

  it("redirect replaces the main group's recipients", () => {
    const p = planEom(result(group(["a@x"], { redirect: "abuse@x" })), ctx(["a@x"]));
    expect(p.kind === "accept" && p.mods).toEqual([
      { type: "delrcpt", rcpt: "<a@x>" },
      { type: "addrcpt", rcpt: "<abuse@x>" },
    ]);
  });

  it("all quarantined: store then DISCARD; mta mode uses QUARANTINE instead", () => {
    const q = group(["a@x"], { disposition: "quarantine", reason: "spam 12" });
    const h = group(["b@x"], { disposition: "hold" });
    expect(planEom(result(q, h), ctx(["a@x", "b@x"]))).toEqual({
      kind: "accept",
      store: [q, h],
      reinject: [],
      mods: [],
      final: { type: "discard" },
    });
    expect(planEom(result(q, h), ctx(["a@x", "b@x"], { quarantineMode: "mta" }))).toEqual({
      kind: "accept",
      store: [],
      reinject: [],
      mods: [{ type: "quarantine", reason: "spam 12" }],
      final: { type: "continue" },
    });
    // Without SMFIF_QUARANTINE negotiated the store is used after all.
    const noQ = planEom(result(q), ctx(["a@x"], { quarantineMode: "mta", actions: 0x1ff & ~Act.QUARANTINE }));
    expect(noQ).toMatchObject({ store: [q], final: { type: "discard" } });
  });

  it("all discarded: DISCARD, nothing stored", () => {
    const p = planEom(result(group(["a@x"], { disposition: "discard" })), ctx(["a@x"]));
    expect(p).toEqual({ kind: "accept", store: [], reinject: [], mods: [], final: { type: "discard" } });
  });

  it("a recipient with no outcome makes the message tempfail instead of vanishing", () => {
    const p = planEom(result(group(["a@x"])), ctx(["a@x", "b@x"]));
    expect(p).toMatchObject({ kind: "reply", final: { type: "tempfail" } });
  });
});
