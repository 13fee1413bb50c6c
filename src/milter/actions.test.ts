import { describe, expect, it } from "vitest";
import type { DataResult, OutcomeGroup } from "../pipeline/session.ts";
import type { HeaderEdit } from "../message/types.ts";
import { parseHeaderSection } from "../message/headers.ts";
import { applyEdits } from "../message/rewrite.ts";
import { headerMods, planEom, TOP_HEADERS, type EomContext } from "./actions.ts";
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

  it("un-indexed delete removes every occurrence from the last down; a field added then deleted is never sent", () => {
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
      { type: "chgheader", index: 2, name: "x-spam", value: "" },
      { type: "chgheader", index: 1, name: "x-spam", value: "" },
      { type: "addheader", name: "X-Spam", value: "yes" },
    ]);
  });

  it("an indexed delete is exactly one CHGHEADER with that index and an empty value", () => {
    const edits: HeaderEdit[] = [{ op: "delete", name: "Received", index: 2 }];
    const c = ctx(["a@x"], { headerCounts: new Map([["received", 3]]) });
    expect(headerMods(edits, c)).toEqual([{ type: "chgheader", index: 2, name: "Received", value: "" }]);
    // Out of range or no such field: nothing, as in the proxy's rewrite.
    expect(headerMods([{ op: "delete", name: "Received", index: 4 }], c)).toEqual([]);
    expect(headerMods([{ op: "delete", name: "X-None", index: 1 }], c)).toEqual([]);
    // Top-added fields do not count: the index still names the MTA's second Received.
    expect(
      headerMods(
        [
          { op: "add", name: "Received", value: "by us", top: true },
          { op: "delete", name: "Received", index: 2 },
        ],
        c,
      ),
    ).toEqual([
      { type: "chgheader", index: 2, name: "Received", value: "" },
      { type: "insheader", index: 0, name: "Received", value: "by us" },
    ]);
  });

  it("an edit marked top is inserted at the top, unless INSHEADER is switched off", () => {
    const edits: HeaderEdit[] = [{ op: "add", name: "X-Spam-Flag", value: "YES", top: true }];
    expect(headerMods(edits, ctx(["a@x"]))).toEqual([
      { type: "insheader", index: 0, name: "X-Spam-Flag", value: "YES" },
    ]);
    expect(headerMods(edits, ctx(["a@x"], { insertTop: false }))).toEqual([
      { type: "addheader", name: "X-Spam-Flag", value: "YES" },
    ]);
  });

  it("set changes the first field in place, or adds one when there is none", () => {
    const c = ctx(["a@x"], { headerCounts: new Map([["subject", 1]]) });
    expect(headerMods([{ op: "set", name: "Subject", value: "[SPAM] hi" }], c)).toEqual([
      { type: "chgheader", index: 1, name: "Subject", value: "[SPAM] hi" },
    ]);
    expect(headerMods([{ op: "set", name: "X-Flag", value: "1" }], c)).toEqual([
      { type: "addheader", name: "X-Flag", value: "1" },
    ]);
  });

  // The MTA's side of CHGHEADER/ADDHEADER/INSHEADER, with or without renumbering after a deletion
  // (Postfix renumbers, Sendmail counts deleted fields): the result must equal the proxy's rewrite.
  const original = [
    "Received: r1",
    "Received: r2",
    "X-Spam: s1",
    "Subject: hello",
    "Received: r3",
    "X-Spam: s2",
    "X-Spam: s3",
  ];
  const scenarios: HeaderEdit[][] = [
    [{ op: "delete", name: "Received", index: 2 }],
    [
      { op: "delete", name: "X-Spam", index: 1 },
      { op: "delete", name: "x-spam", index: 1 },
      { op: "delete", name: "Received", index: 3 },
    ],
    [
      { op: "add", name: "X-Spam", value: "new" },
      { op: "delete", name: "X-Spam", index: 1 },
      { op: "delete", name: "X-Spam", index: 3 },
      { op: "set", name: "Subject", value: "[SPAM] hello" },
      { op: "add", name: "Authentication-Results", value: "mx; spf=pass", top: true },
      { op: "add", name: "Received", value: "by sluice", top: true },
      { op: "delete", name: "Received", index: 1 },
      { op: "set", name: "X-Spam", value: "changed" },
    ],
    [
      { op: "delete", name: "Received" },
      { op: "add", name: "Received", value: "r9" },
      { op: "delete", name: "Received", index: 1 },
      { op: "set", name: "X-Spam", value: "first" },
      { op: "delete", name: "X-Spam", index: 2 },
    ],
  ];
  for (const renumber of [true, false]) {
    it(`agrees with the proxy's applyEdits (MTA ${renumber ? "renumbers" : "does not renumber"})`, () => {
      for (const edits of scenarios) {
        const headers = parseHeaderSection(Buffer.from(original.map((l) => l + "\r\n").join("")));
        const counts = new Map<string, number>();
        for (const f of headers.fields)
          counts.set(f.name.toLowerCase(), (counts.get(f.name.toLowerCase()) ?? 0) + 1);
        const mods = headerMods(edits, ctx(["a@x"], { headerCounts: counts, topHeaders: new Set() }));
        const mta = headers.entries().map((e) => ({ ...e, deleted: false }));
        for (const m of mods) {
          if (m.type === "addheader") mta.push({ name: m.name, value: m.value, deleted: false });
          else if (m.type === "insheader")
            mta.splice(m.index, 0, { name: m.name, value: m.value, deleted: false });
          else if (m.type === "chgheader") {
            const same = mta.filter(
              (h) => h.name.toLowerCase() === m.name.toLowerCase() && !(renumber && h.deleted),
            );
            const h = same[m.index - 1];
            if (!h || h.deleted) throw new Error(`CHGHEADER ${m.name} ${m.index} hits nothing`);
            if (m.value === "") h.deleted = true;
            else h.value = m.value;
          } else throw new Error(`unexpected ${m.type}`);
        }
        const got = mta.filter((h) => !h.deleted).map((h) => `${h.name.toLowerCase()}: ${h.value}`);
        const want = applyEdits(headers, edits)
          .entries()
          .map((e) => `${e.name.toLowerCase()}: ${e.value}`);
        expect(got, JSON.stringify(edits)).toEqual(want);
      }
    });
  }

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
