// The store contract: one behaviour suite that every Store implementation must pass
// (SQLite now, PostgreSQL in the cluster issue). Imported by each backend's test file.
import { describe, it, expect, beforeEach, afterEach } from "vitest";
import { ListLimitError, type Store, type StoredUser } from "./types.ts";
import { emptyEnvelope } from "../message/envelope.ts";

export function storeContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
      await store.migrate();
    });
    afterEach(async () => {
      await store.close();
    });

    const user = (address: string, extra: Partial<StoredUser> = {}): StoredUser => ({
      id: address,
      tenant: "example",
      address,
      aliases: [],
      language: null,
      spamFilter: true,
      thresholds: {},
      whitelist: [],
      blacklist: [],
      sendAs: [],
      passwordHash: null,
      ...extra,
    });

    it("migrate is idempotent", async () => {
      await store.migrate();
      await store.migrate();
      expect(await store.getUser("nobody@example.com")).toBeNull();
    });

    it("stores users and finds them by address and alias, case-insensitively", async () => {
      await store.putUser(
        user("alice@example.com", { aliases: ["a@example.com"], language: "ja", whitelist: ["x.org"] }),
      );
      const byAlias = await store.getUser("A@Example.COM");
      expect(byAlias?.address).toBe("alice@example.com");
      expect(byAlias?.language).toBe("ja");
      expect(byAlias?.whitelist).toEqual(["x.org"]);
      await store.putUser(user("alice@example.com", { spamFilter: false }));
      expect((await store.getUser("alice@example.com"))?.spamFilter).toBe(false);
      expect(await store.getUser("a@example.com")).toBeNull();
      expect((await store.listUsers("example")).map((u) => u.address)).toEqual(["alice@example.com"]);
      expect(await store.deleteUser("alice@example.com")).toBe(true);
      expect(await store.getUser("alice@example.com")).toBeNull();
    });

    it("refuses a list over its limit and keeps the old one", async () => {
      await store.putUser(user("bob@example.com"));
      await store.setList("bob@example.com", "blacklist", ["spam.example", "*@bad.example"], 20);
      const many = Array.from({ length: 21 }, (_, i) => `s${i}@x.org`);
      await expect(store.setList("bob@example.com", "blacklist", many, 20)).rejects.toBeInstanceOf(
        ListLimitError,
      );
      expect((await store.getUser("bob@example.com"))?.blacklist).toEqual(["spam.example", "*@bad.example"]);
    });

    it("quarantines with per-recipient state transitions", async () => {
      const env = emptyEnvelope("inbound");
      env.mailFrom = { address: "s@x.org", params: {} };
      await store.putQuarantine({
        id: "Q1",
        tenant: "example",
        envelope: env,
        score: 12.5,
        symbols: [{ name: "BAYES_SPAM", score: 12.5 }],
        subject: "hi",
        message: Buffer.from("Subject: hi\r\n\r\nbody\r\n"),
        recipients: [
          { address: "alice@example.com", reason: "spam" },
          { address: "carol@example.com", reason: "spam" },
        ],
      });
      const q = await store.getQuarantine("Q1");
      expect(q?.recipients.map((r) => r.state)).toEqual(["quarantined", "quarantined"]);
      expect(q?.envelope.mailFrom?.address).toBe("s@x.org");
      expect((await store.quarantineMessage("Q1"))?.toString()).toContain("body");
      expect(await store.setQuarantineState("Q1", "alice@example.com", "quarantined", "released")).toBe(true);
      expect(await store.setQuarantineState("Q1", "alice@example.com", "quarantined", "released")).toBe(
        false,
      );
      const mine = await store.listQuarantine({ recipient: "carol@example.com", state: "quarantined" });
      expect(mine.map((m) => m.id)).toEqual(["Q1"]);
      expect(await store.listQuarantine({ recipient: "alice@example.com", state: "quarantined" })).toEqual(
        [],
      );
      expect(await store.listQuarantine({ tenant: "other" })).toEqual([]);
      await store.deleteQuarantine("Q1");
      expect(await store.getQuarantine("Q1")).toBeNull();
      expect(await store.listQuarantine({ recipient: "carol@example.com" })).toEqual([]);
    });

    it("holds messages and changes their state once", async () => {
      await store.putHold({
        id: "H1",
        tenant: "example",
        envelope: emptyEnvelope("submission"),
        reason: "external recipient",
        releaseAt: new Date(Date.now() + 60_000),
        message: Buffer.from("x"),
      });
      expect((await store.listHolds({ state: "held" })).map((h) => h.id)).toEqual(["H1"]);
      expect(await store.setHoldState("H1", "held", "cancelled")).toBe(true);
      expect(await store.setHoldState("H1", "held", "released")).toBe(false);
      expect((await store.getHold("H1"))?.state).toBe("cancelled");
      expect((await store.holdMessage("H1"))?.toString()).toBe("x");
      await store.deleteHold("H1");
      expect(await store.getHold("H1")).toBeNull();
    });

    it("logs messages and finds them by recipient, sender and tenant", async () => {
      const at = new Date();
      await store.logMessage({
        id: "L1",
        at,
        tenant: "example",
        ingress: "inbound",
        clientAddress: "192.0.2.1",
        sender: "Someone@X.org",
        subject: "s",
        size: 10,
        recipients: [{ address: "alice@example.com", action: "accept", score: 0, symbols: [], trace: [] }],
      });
      expect((await store.searchLog({ recipient: "ALICE@example.com" })).map((e) => e.id)).toEqual(["L1"]);
      expect((await store.searchLog({ sender: "someone@x.org" })).length).toBe(1);
      expect((await store.searchLog({ tenant: "other" })).length).toBe(0);
      expect((await store.getLog("L1"))?.recipients[0]?.action).toBe("accept");
    });
  });
}
