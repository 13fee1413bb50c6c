import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { storeContract } from "./contract.ts";
import { SqliteStore } from "./sqlite.ts";
import type { LogEntry, StoredUser } from "./types.ts";
import { emptyEnvelope } from "../message/envelope.ts";

const open = () => new SqliteStore(join(mkdtempSync(join(tmpdir(), "sluice-store-")), "s.db"));

storeContract("SQLite", async () => open());

// node:sqlite has one synchronous connection under an async API: what only that shows.
describe("SQLite store, one connection", () => {
  const user = (address: string): StoredUser => ({
    id: address,
    tenant: "t",
    address,
    aliases: [`alias-${address}`],
    language: null,
    spamFilter: true,
    thresholds: {},
    whitelist: ["w.example"],
    blacklist: [],
    sendAs: [],
    passwordHash: null,
  });

  it("runs concurrent transactions and statements one after another, none lost", async () => {
    const store = open();
    await store.migrate();
    const addresses = Array.from({ length: 40 }, (_, i) => `u${i}@t.example`);
    await Promise.all(
      addresses.flatMap((a) => [
        store.putUser(user(a)),
        store.setList(a, "blacklist", [`b.${a}`], 10),
        store.getUser(a),
      ]),
    );
    const all = await store.listUsers("t");
    expect(all.map((u) => u.address)).toEqual([...addresses].sort());
    expect(all.every((u) => u.blacklist.length === 1 && u.aliases.length === 1)).toBe(true);
    await store.close();
  });

  it("shares one queue among connections of this process to the same file (no 'database is locked')", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "sluice-store-")), "s.db");
    const [a, b] = [new SqliteStore(path), new SqliteStore(path)];
    await a.migrate();
    await b.migrate();
    const ids = Array.from({ length: 20 }, (_, i) => `H${i}`);
    for (const id of ids) {
      await a.putHold({
        id,
        tenant: "t",
        envelope: { ...emptyEnvelope("submission"), recipients: [{ address: "x@o.example", params: {} }] },
        reason: "r",
        releaseAt: new Date(),
        message: Buffer.from("m"),
      });
    }
    const claims = await Promise.all(
      ids.flatMap((id) =>
        [a, b].map((s, n) =>
          s.claimRelease({ key: `${id}-${n}`, kind: "hold", itemId: id, recipients: "all", actor: "t" }),
        ),
      ),
    );
    for (const id of ids)
      expect(claims.filter((c) => c.itemId === id && c.state === "claimed")).toHaveLength(1);
    await Promise.all([a.close(), b.close(), a.close()]);
  });

  it("group-commits the message log: every entry written, a duplicate fails only its own call", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "sluice-store-")), "s.db");
    const store = new SqliteStore(path);
    await store.migrate();
    const entry = (id: string): LogEntry => ({
      id,
      at: new Date(),
      tenant: "t",
      ingress: "inbound",
      clientAddress: "192.0.2.1",
      sender: "s@x.org",
      subject: null,
      size: 1,
      recipients: [{ address: "a@t.example", action: "accept", score: 0, symbols: [], trace: [] }],
    });
    const ids = Array.from({ length: 300 }, (_, i) => `L${i}`);
    const results = await Promise.allSettled([...ids, "L7"].map((id) => store.logMessage(entry(id))));
    expect(results.filter((r) => r.status === "rejected")).toHaveLength(1);
    // An entry still waiting for its batch is committed by close().
    const last = store.logMessage(entry("last"));
    await store.close();
    await last;
    const reopened = new SqliteStore(path);
    expect(await reopened.searchLog({ recipient: "a@t.example", limit: 1000 })).toHaveLength(301);
    await reopened.close();
  });
});
