// The store contract of the console's daily views (issue 23), run against every backend
// (console-store.test.ts): per-user overrides of directory users with the list cap, and the
// message log and quarantine searched, sorted, paged and counted on the server.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { emptyEnvelope } from "../message/envelope.ts";
import { ListLimitError, type LogEntry, type Store } from "./types.ts";

export function consoleStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract (console views): ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
      await store.migrate();
    });
    afterEach(async () => {
      await store.close();
    });

    it("keeps a user's own overrides, field by field, with the list cap", async () => {
      expect(await store.getUserOverride("ann@acme.test")).toBeNull();
      await store.putUserOverride(
        {
          address: "Ann@Acme.test",
          tenant: "acme",
          spamFilter: false,
          language: null,
          whitelist: ["Partner.example"],
          blacklist: null,
          updatedBy: "ann@acme.test",
        },
        20,
      );
      const o = await store.getUserOverride("ANN@acme.test");
      expect(o).toMatchObject({
        address: "ann@acme.test",
        tenant: "acme",
        spamFilter: false,
        language: null,
        whitelist: ["partner.example"],
        blacklist: null,
        updatedBy: "ann@acme.test",
      });
      expect(o!.updatedAt).toBeInstanceOf(Date);
      await expect(
        store.putUserOverride(
          {
            ...o!,
            blacklist: Array.from({ length: 21 }, (_, i) => `b${i}.example`),
            updatedBy: "ann@acme.test",
          },
          20,
        ),
      ).rejects.toBeInstanceOf(ListLimitError);
      expect((await store.getUserOverride("ann@acme.test"))!.blacklist).toBeNull();
      await store.putUserOverride({ ...o!, spamFilter: true, language: "ja", updatedBy: "root" }, 20);
      expect(await store.getUserOverride("ann@acme.test")).toMatchObject({
        spamFilter: true,
        language: "ja",
        whitelist: ["partner.example"],
        updatedBy: "root",
      });
      await store.putUserOverride({ ...o!, address: "gus@globex.test", tenant: "globex" }, 20);
      expect((await store.listUserOverrides("acme")).map((x) => x.address)).toEqual(["ann@acme.test"]);
      expect(await store.deleteUserOverride("ann@acme.test")).toBe(true);
      expect(await store.deleteUserOverride("ann@acme.test")).toBe(false);
      expect(await store.getUserOverride("ann@acme.test")).toBeNull();
    });

    it("searches, sorts, pages and counts the message log", async () => {
      const base = Date.parse("2025-03-01T10:00:00Z");
      const entry = (n: number, extra: Partial<LogEntry> = {}): LogEntry => ({
        id: `REF${String(n).padStart(3, "0")}`,
        at: new Date(base + n * 60_000),
        tenant: n % 2 ? "acme" : "globex",
        ingress: "inbound",
        clientAddress: "192.0.2.1",
        sender: `s${n}@remote.example`,
        subject: `Subject number ${n}`,
        size: 1000 - n,
        recipients: [{ address: `u${n}@acme.test`, action: "accept", score: 0, symbols: [], trace: [] }],
        ...extra,
      });
      for (let n = 1; n <= 30; n++) await store.logMessage(entry(n));
      await store.logMessage(
        entry(31, { subject: "請求書 Invoice 100%_done", sender: "billing@vendor.example" }),
      );
      const ids = (l: LogEntry[]) => l.map((e) => e.id);
      expect(await store.countLog({})).toBe(31);
      expect(await store.countLog({ tenant: "acme" })).toBe(16);
      const page2 = await store.searchLog({ limit: 10, offset: 10 });
      expect(ids(page2)).toEqual(
        Array.from({ length: 10 }, (_, i) => `REF${String(21 - i).padStart(3, "0")}`),
      );
      expect(ids(await store.searchLog({ sort: "size", order: "asc", limit: 2 }))).toEqual([
        "REF031",
        "REF030",
      ]);
      expect(ids(await store.searchLog({ sort: "at", order: "asc", limit: 1 }))).toEqual(["REF001"]);
      // Text: subject, sender, a recipient or the reference id, case-insensitively; % and _ literal.
      expect(ids(await store.searchLog({ text: "INVOICE" }))).toEqual(["REF031"]);
      expect(ids(await store.searchLog({ text: "100%_" }))).toEqual(["REF031"]);
      expect(ids(await store.searchLog({ text: "請求書" }))).toEqual(["REF031"]);
      expect(ids(await store.searchLog({ text: "vendor.example" }))).toEqual(["REF031"]);
      expect(ids(await store.searchLog({ text: "u7@acme" }))).toEqual(["REF007"]);
      expect(ids(await store.searchLog({ text: "ref012" }))).toEqual(["REF012"]);
      expect(await store.countLog({ text: "number 1" })).toBe(11);
      expect(
        ids(await store.searchLog({ subject: "number 2", tenant: "globex", sort: "at", order: "asc" })),
      ).toEqual(["REF002", "REF020", "REF022", "REF024", "REF026", "REF028"]);
      const window = { since: new Date(base + 5 * 60_000), before: new Date(base + 8 * 60_000) };
      expect(ids(await store.searchLog({ ...window, order: "asc" }))).toEqual(["REF005", "REF006", "REF007"]);
      expect(await store.countLog(window)).toBe(3);
      // A refusal after the entry was written (at commit) updates its recipients.
      const e7 = (await store.getLog("REF007"))!;
      await store.updateLogRecipients("REF007", [
        { ...e7.recipients[0]!, reply: "451 4.4.1 x [ref REF007]", stage: "commit" },
      ]);
      expect((await store.getLog("REF007"))!.recipients[0]).toMatchObject({
        stage: "commit",
        reply: "451 4.4.1 x [ref REF007]",
      });
      expect(ids(await store.searchLog({ recipient: "u7@acme.test" }))).toEqual(["REF007"]);
    });

    it("searches, sorts, pages and counts the quarantine", async () => {
      for (let n = 1; n <= 25; n++) {
        const envelope = emptyEnvelope("inbound");
        envelope.mailFrom = { address: n === 7 ? "Promo@Shop.example" : `s${n}@remote.example`, params: {} };
        await store.putQuarantine({
          id: `Q${String(n).padStart(3, "0")}`,
          tenant: n <= 20 ? "acme" : "globex",
          envelope,
          score: n,
          symbols: [{ name: "BAYES_SPAM", score: n }],
          subject: n === 3 ? "Cheap watches" : `Offer ${n}`,
          message: Buffer.from(`Subject: x\r\n\r\n${"y".repeat(n)}\r\n`),
          recipients: [{ address: `u${n % 3}@acme.test`, reason: "spam" }],
        });
      }
      const ids = (l: { id: string }[]) => l.map((e) => e.id);
      expect(await store.countQuarantine({ tenant: "acme" })).toBe(20);
      expect(await store.countQuarantine({ tenant: "acme", recipient: "u1@acme.test" })).toBe(7);
      expect(
        ids(await store.listQuarantine({ tenant: "acme", sort: "score", order: "desc", limit: 3 })),
      ).toEqual(["Q020", "Q019", "Q018"]);
      expect(
        ids(await store.listQuarantine({ tenant: "acme", sort: "score", order: "asc", limit: 3, offset: 3 })),
      ).toEqual(["Q004", "Q005", "Q006"]);
      expect(ids(await store.listQuarantine({ text: "watches" }))).toEqual(["Q003"]);
      expect(ids(await store.listQuarantine({ text: "shop.EXAMPLE" }))).toEqual(["Q007"]);
      expect(ids(await store.listQuarantine({ sender: "promo@shop.example" }))).toEqual(["Q007"]);
      expect(ids(await store.listQuarantine({ text: "q02", sort: "created", order: "asc" }))).toEqual([
        "Q020",
        "Q021",
        "Q022",
        "Q023",
        "Q024",
        "Q025",
      ]);
      expect(await store.countQuarantine({ text: "u2@acme", tenant: "acme" })).toBe(7);
      expect(ids(await store.listQuarantine({ sort: "size", order: "desc", limit: 1 }))).toEqual(["Q025"]);
    });
  });
}
