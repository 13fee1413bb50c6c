// Test helper: a store filled with one of everything it keeps (users and lists, quarantine with
// its message, hold, release claim, message log, tokens, cursors, console accounts and sessions,
// audit, cluster revisions, heartbeats, DKIM keys), and the check that another store holds the
// same — for copy, backup and restore tests.
import { expect } from "vitest";
import { createStoredKey, StoreKeySource } from "../../src/filters/auth/key-store.ts";
import { emptyEnvelope } from "../../src/message/envelope.ts";
import type { Store } from "../../src/store/types.ts";

export const FIXTURE_SECRET = Buffer.alloc(32, 7);
const AT = new Date("2026-01-02T03:04:05.678Z");
export const FIXTURE_MESSAGE = Buffer.concat([
  Buffer.from("Subject: kept\r\nFrom: a@remote.example\r\n\r\n"),
  Buffer.from([0, 1, 2, 250, 255]),
  Buffer.from("\r\nbody\r\n"),
]);

const envelope = () => emptyEnvelope("inbound", "192.0.2.1");

export async function fillStore(store: Store): Promise<{ rev: number }> {
  await store.putUser({
    id: "alice",
    tenant: "example",
    address: "alice@example.com",
    aliases: ["al@example.com"],
    language: "ja",
    spamFilter: false,
    thresholds: { quarantine: 7 },
    whitelist: ["partner.example"],
    blacklist: ["*@spam.example"],
    sendAs: [],
    passwordHash: "scrypt$x",
  });
  await store.putQuarantine({
    id: "Q1",
    tenant: "example",
    envelope: envelope(),
    score: 12.5,
    symbols: [{ name: "BAYES_SPAM", score: 12.5, detail: "0.99" }],
    subject: "kept",
    message: FIXTURE_MESSAGE,
    recipients: [{ address: "alice@example.com", reason: "spam" }],
  });
  await store.putHold({
    id: "H1",
    tenant: "example",
    envelope: envelope(),
    reason: "external recipient",
    releaseAt: AT,
    message: FIXTURE_MESSAGE,
  });
  await store.updateHold("H1", { approver: "boss@example.com" });
  await store.claimRelease({ key: "K1", kind: "quarantine", itemId: "Q1", recipients: "all", actor: "test" });
  await store.logMessage({
    id: "Q1",
    at: AT,
    tenant: "example",
    ingress: "inbound",
    clientAddress: "192.0.2.1",
    sender: "a@remote.example",
    subject: "kept",
    size: FIXTURE_MESSAGE.length,
    recipients: [{ address: "alice@example.com", action: "quarantine", score: 12.5, symbols: [], trace: [] }],
  });
  expect(await store.consumeToken("T1", new Date(Date.now() + 86_400_000))).toBe(true);
  await store.setCursor("digest:example", AT);
  await store.putAccount({
    login: "admin",
    role: "operator",
    tenant: null,
    passwordHash: "scrypt$y",
    createdAt: AT,
  });
  await store.putSession({
    id: "S1",
    subject: "admin",
    role: "operator",
    tenant: null,
    csrf: "c",
    expiresAt: new Date(Date.now() + 86_400_000),
  });
  await store.appendAudit({
    at: AT,
    actor: "cli:test",
    action: "account.create",
    target: "admin",
    tenant: null,
    before: null,
    after: { role: "operator" },
  });
  await store.publishConfig({
    role: "mx",
    text: "tenants: []\n",
    author: "a",
    note: "one",
    rollbackOf: null,
  });
  const two = await store.publishConfig({
    role: "mx",
    text: "tenants: []\n# 2\n",
    author: "a",
    note: null,
    rollbackOf: null,
  });
  await store.putHeartbeat({
    name: "mx1",
    role: "mx",
    version: "0.1.0",
    startedAt: AT,
    seenAt: AT,
    appliedRev: two.rev,
    health: "ok",
    failedRev: null,
    error: null,
  });
  await createStoredKey(store, FIXTURE_SECRET, {
    domain: "example.com",
    selector: "s1",
    tenant: "example",
    type: "ed25519",
  });
  return { rev: two.rev };
}

/** `store` holds what fillStore wrote (into another store), and keeps working after it. */
export async function checkStore(store: Store, filled: { rev: number }): Promise<void> {
  const u = (await store.getUser("alice@example.com"))!;
  expect(u).toMatchObject({ language: "ja", spamFilter: false, thresholds: { quarantine: 7 } });
  expect(u.aliases).toEqual(["al@example.com"]);
  expect(u.whitelist).toEqual(["partner.example"]);
  expect(u.blacklist).toEqual(["*@spam.example"]);
  const q = (await store.getQuarantine("Q1"))!;
  expect(q).toMatchObject({ tenant: "example", score: 12.5, subject: "kept" });
  expect(q.symbols[0]).toMatchObject({ name: "BAYES_SPAM" });
  expect(q.recipients.map((r) => [r.address, r.state])).toEqual([["alice@example.com", "quarantined"]]);
  expect(Buffer.compare((await store.quarantineMessage("Q1"))!, FIXTURE_MESSAGE)).toBe(0);
  const h = (await store.getHold("H1"))!;
  expect(h).toMatchObject({ state: "held", approver: "boss@example.com", releaseAt: AT });
  expect((await store.getRelease("K1"))?.state).toBe("claimed");
  expect((await store.getLog("Q1"))?.recipients[0]).toMatchObject({ action: "quarantine" });
  expect((await store.getLog("Q1"))?.at).toEqual(AT);
  expect(await store.consumeToken("T1", new Date(Date.now() + 86_400_000))).toBe(false); // used once already
  expect(await store.getCursor("digest:example")).toEqual(AT);
  expect(await store.getAccount("admin")).toMatchObject({ role: "operator", createdAt: AT });
  expect((await store.getSession("S1"))?.subject).toBe("admin");
  expect((await store.listAudit({}))[0]).toMatchObject({
    action: "account.create",
    after: { role: "operator" },
  });
  expect((await store.getConfigRevision(filled.rev))?.text).toBe("tenants: []\n# 2\n");
  expect((await store.listHeartbeats())[0]).toMatchObject({ name: "mx1", appliedRev: filled.rev });
  // Numbering continues after the copied rows.
  const next = await store.publishConfig({
    role: "mx",
    text: "x: 1\n",
    author: "a",
    note: null,
    rollbackOf: null,
  });
  expect(next.rev).toBe(filled.rev + 1);
  await store.appendAudit({
    at: new Date(),
    actor: "t",
    action: "x",
    target: "y",
    tenant: null,
    before: null,
    after: null,
  });
  // The sealed DKIM key opens with the secret key, and only with it.
  expect((await new StoreKeySource(store, FIXTURE_SECRET).get("example.com", "s1"))?.selector).toBe("s1");
  await expect(new StoreKeySource(store, Buffer.alloc(32, 8)).get("example.com", "s1")).rejects.toThrow();
}
