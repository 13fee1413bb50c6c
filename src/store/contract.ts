// The store contract: one behaviour suite that every Store implementation must pass
// (SQLite now, PostgreSQL in the cluster issue). Imported by each backend's test file.
import { describe, it, expect, beforeEach, afterEach } from "vitest";
import {
  ListLimitError,
  type DkimKeyRecord,
  type GreylistQuery,
  type SpamLearningStore,
  type SpamLessonInput,
  type Store,
  type StoredUser,
} from "./types.ts";
import { emptyEnvelope } from "../message/envelope.ts";

/** A window start for every window length the rate tests use (a multiple of 3600 s). */
const T0 = Date.UTC(2026, 0, 1);

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

    it("keeps each quarantined recipient's own filter results", async () => {
      await store.putQuarantine({
        id: "QR1",
        tenant: "example",
        envelope: emptyEnvelope("inbound"),
        score: 30,
        symbols: [{ name: "CLAMAV_VIRUS", score: 0 }],
        subject: null,
        message: Buffer.from("Subject: x\r\n\r\nbody\r\n"),
        recipients: [
          {
            address: "alice@example.com",
            reason: "virus",
            score: 0,
            symbols: [{ name: "CLAMAV_VIRUS", score: 0 }],
          },
          {
            address: "carol@example.com",
            reason: "spam",
            score: 30,
            symbols: [{ name: "BAYES_SPAM", score: 30 }],
          },
          { address: "dave@example.com", reason: "spam" },
        ],
      });
      const q = (await store.getQuarantine("QR1"))!;
      const by = new Map(q.recipients.map((r) => [r.address, r]));
      expect(by.get("alice@example.com")?.symbols.map((s) => s.name)).toEqual(["CLAMAV_VIRUS"]);
      expect(by.get("carol@example.com")?.symbols.map((s) => s.name)).toEqual(["BAYES_SPAM"]);
      expect(by.get("carol@example.com")?.score).toBe(30);
      // Without its own results a recipient carries the entry's.
      expect(by.get("dave@example.com")?.symbols.map((s) => s.name)).toEqual(["CLAMAV_VIRUS"]);
      const listed = await store.listQuarantine({ recipient: "carol@example.com" });
      expect(listed[0]?.recipients.find((r) => r.address === "carol@example.com")?.score).toBe(30);
      await store.deleteQuarantine("QR1");
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

    const quarantineQ = async (id: string, rcpts: string[]) =>
      store.putQuarantine({
        id,
        tenant: "example",
        envelope: emptyEnvelope("inbound"),
        score: 10,
        symbols: [],
        subject: null,
        message: Buffer.from("Subject: x\r\n\r\nb\r\n"),
        recipients: rcpts.map((address) => ({ address, reason: "spam" })),
      });

    it("filters the quarantine by creation time", async () => {
      const t0 = new Date(Date.now() - 1000);
      await quarantineQ("QT", ["a@example.com"]);
      expect((await store.listQuarantine({ since: t0 })).map((q) => q.id)).toEqual(["QT"]);
      expect(await store.listQuarantine({ since: new Date(Date.now() + 60_000) })).toEqual([]);
      expect(await store.listQuarantine({ before: t0 })).toEqual([]);
      expect((await store.listQuarantine({ before: new Date(Date.now() + 60_000) })).length).toBe(1);
    });

    it("claims a quarantine release once per key and per recipient", async () => {
      await quarantineQ("QR", ["a@example.com", "b@example.com", "c@example.com"]);
      const c1 = await store.claimRelease({
        key: "k1",
        kind: "quarantine",
        itemId: "QR",
        recipients: ["A@example.com", "b@example.com"],
        actor: "admin",
      });
      expect(c1.recipients).toEqual(["a@example.com", "b@example.com"]);
      expect(c1.state).toBe("claimed");
      // Same key: the same claim; another key: only what is still free.
      expect((await store.claimRelease({ ...c1, recipients: "all" })).recipients).toEqual(c1.recipients);
      const c2 = await store.claimRelease({
        key: "k2",
        kind: "quarantine",
        itemId: "QR",
        recipients: "all",
        actor: "x",
      });
      expect(c2.recipients).toEqual(["c@example.com"]);
      expect((await store.openReleases()).map((c) => c.key)).toEqual(["k1", "k2"]);
      await store.recordReleaseDelivery(
        "k1",
        ["a@example.com"],
        [{ address: "b@example.com", reason: "451" }],
      );
      expect((await store.getRelease("k1"))?.state).toBe("delivered");
      await store.finishRelease("k1");
      await store.finishRelease("k1");
      const q = await store.getQuarantine("QR");
      expect(q?.recipients.map((r) => `${r.address}:${r.state}`)).toEqual([
        "a@example.com:released",
        "b@example.com:quarantined",
        "c@example.com:quarantined",
      ]);
      // b is free again; a is not; c is still reserved by k2 until it finishes.
      const c3 = await store.claimRelease({
        key: "k3",
        kind: "quarantine",
        itemId: "QR",
        recipients: "all",
        actor: "x",
      });
      expect(c3.recipients).toEqual(["b@example.com"]);
      await store.finishRelease("k2");
      expect((await store.getRelease("k2"))?.state).toBe("done");
      expect(
        (await store.getQuarantine("QR"))?.recipients.find((r) => r.address === "c@example.com")?.state,
      ).toBe("quarantined");
      const none = await store.claimRelease({
        key: "k4",
        kind: "quarantine",
        itemId: "QR",
        recipients: ["a@example.com"],
        actor: "x",
      });
      expect(none.recipients).toEqual([]);
      expect(none.state).toBe("done");
      expect((await store.openReleases()).map((c) => c.key)).toEqual(["k3"]);
    });

    it("claims a hold release once and keeps approval and notice marks", async () => {
      const env = emptyEnvelope("submission");
      env.recipients = [{ address: "x@other.org", params: {} }];
      await store.putHold({
        id: "HC",
        tenant: "example",
        envelope: env,
        reason: "r",
        releaseAt: new Date(),
        message: Buffer.from("m"),
      });
      const h0 = await store.getHold("HC");
      expect([h0?.approver, h0?.approvedBy, h0?.noticeSentAt]).toEqual([null, null, null]);
      const at = new Date(Date.now() + 3_600_000);
      expect(
        await store.updateHold("HC", {
          approver: "boss@example.com",
          releaseAt: at,
          noticeSentAt: new Date(),
        }),
      ).toBe(true);
      const h1 = await store.getHold("HC");
      expect(h1?.approver).toBe("boss@example.com");
      expect(h1?.releaseAt.getTime()).toBe(at.getTime());
      expect(h1?.noticeSentAt).toBeInstanceOf(Date);
      const c = await store.claimRelease({
        key: "hk1",
        kind: "hold",
        itemId: "HC",
        recipients: "all",
        actor: "timer",
      });
      expect(c.recipients).toEqual(["x@other.org"]);
      const other = await store.claimRelease({
        key: "hk2",
        kind: "hold",
        itemId: "HC",
        recipients: "all",
        actor: "timer",
      });
      expect(other.recipients).toEqual([]);
      // Nothing accepted: the hold stays held and can be claimed again.
      await store.recordReleaseDelivery("hk1", [], [{ address: "x@other.org", reason: "451" }]);
      await store.finishRelease("hk1");
      expect((await store.getHold("HC"))?.state).toBe("held");
      await store.claimRelease({ key: "hk3", kind: "hold", itemId: "HC", recipients: "all", actor: "timer" });
      await store.recordReleaseDelivery("hk3", ["x@other.org"], []);
      await store.finishRelease("hk3");
      expect((await store.getHold("HC"))?.state).toBe("released");
      expect(await store.updateHold("HC", { approvedBy: "boss@example.com" })).toBe(false);
    });

    it("consumes a token once and keeps job cursors", async () => {
      const exp = new Date(Date.now() + 60_000);
      expect(await store.consumeToken("t1", exp)).toBe(true);
      expect(await store.consumeToken("t1", exp)).toBe(false);
      expect(await store.consumeToken("t2", exp)).toBe(true);
      expect(await store.getCursor("digest:example")).toBeNull();
      const at = new Date("2025-01-06T10:00:00Z");
      await store.setCursor("digest:example", at);
      await store.setCursor("digest:example", new Date(at.getTime() + 1));
      expect((await store.getCursor("digest:example"))?.getTime()).toBe(at.getTime() + 1);
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
      // One message to two tenants: one entry each, both found by the reference id.
      for (const [id, tenant] of [
        ["R_1", "acme"],
        ["R_1-T2", "globex"],
        ["R_10", "acme"],
        ["RX1-T2", "globex"],
      ] as const) {
        await store.logMessage({
          id,
          at,
          tenant,
          ingress: "inbound",
          clientAddress: "192.0.2.1",
          sender: "s@x.org",
          subject: null,
          size: 1,
          recipients: [],
        });
      }
      const refs = (q: { ref: string; tenant?: string }) =>
        store.searchLog(q).then((l) => l.map((e) => e.id).sort());
      expect(await refs({ ref: "R_1" })).toEqual(["R_1", "R_1-T2"]);
      expect(await refs({ ref: "R_1", tenant: "globex" })).toEqual(["R_1-T2"]);
      expect(await refs({ ref: "R%1" })).toEqual([]);
    });

    // ---- web console: accounts, sessions, audit log (src/web/) ----
    it("keeps console accounts, expiring sessions and an ordered audit log", async () => {
      const created = new Date("2025-01-06T10:00:00Z");
      await store.putAccount({
        login: "op",
        role: "operator",
        tenant: null,
        passwordHash: "scrypt$x",
        createdAt: created,
      });
      await store.putAccount({
        login: "ta",
        role: "tenant_admin",
        tenant: "a",
        passwordHash: "scrypt$y",
        createdAt: created,
      });
      await store.putAccount({
        login: "ta",
        role: "tenant_admin",
        tenant: "a",
        passwordHash: "scrypt$z",
        createdAt: created,
      });
      expect((await store.getAccount("ta"))?.passwordHash).toBe("scrypt$z");
      expect((await store.getAccount("ta"))?.createdAt.getTime()).toBe(created.getTime());
      expect((await store.listAccounts()).map((a) => a.login)).toEqual(["op", "ta"]);
      expect(await store.getAccount("nobody")).toBeNull();

      const base = { subject: "ta", role: "tenant_admin" as const, tenant: "a", csrf: "c" };
      await store.putSession({ id: "s1", ...base, expiresAt: new Date(Date.now() + 60_000) });
      await store.putSession({ id: "s2", ...base, expiresAt: new Date(Date.now() - 1) });
      expect((await store.getSession("s1"))?.tenant).toBe("a");
      expect(await store.getSession("s2")).toBeNull();
      await store.deleteSession("s1");
      expect(await store.getSession("s1")).toBeNull();

      const e = { at: new Date(), actor: "op", target: "u@a.example", before: null };
      await store.appendAudit({ ...e, action: "user.create", tenant: "a", after: { spamFilter: true } });
      await store.appendAudit({ ...e, action: "user.create", tenant: "b", after: null });
      await store.appendAudit({
        ...e,
        action: "user.update",
        tenant: "a",
        before: { x: 1 },
        after: { x: 2 },
      });
      const a = await store.listAudit({ tenant: "a" });
      expect(a.map((x) => x.action)).toEqual(["user.update", "user.create"]);
      expect(a[0]).toMatchObject({ actor: "op", target: "u@a.example", before: { x: 1 }, after: { x: 2 } });
      expect((await store.listAudit({ limit: 2 })).length).toBe(2);
    });

    // ---- cluster: configuration revisions, node heartbeats (src/cluster/) ----
    it("numbers configuration revisions across roles and finds each role's newest", async () => {
      expect(await store.latestConfigRevision("mx")).toBeNull();
      const r1 = await store.publishConfig({
        role: "mx",
        text: "a: 1\n",
        author: "op",
        note: null,
        rollbackOf: null,
      });
      const r2 = await store.publishConfig({
        role: "sub",
        text: "b: 2\n",
        author: "op",
        note: "n",
        rollbackOf: null,
      });
      const r3 = await store.publishConfig({
        role: "mx",
        text: "a: 1\n",
        author: "x",
        note: null,
        rollbackOf: r1.rev,
      });
      expect(r2.rev).toBeGreaterThan(r1.rev);
      expect(r3.rev).toBeGreaterThan(r2.rev);
      expect(r3.rollbackOf).toBe(r1.rev);
      expect(r1.createdAt).toBeInstanceOf(Date);
      expect((await store.latestConfigRevision("mx"))?.rev).toBe(r3.rev);
      expect((await store.latestConfigRevision("sub"))?.text).toBe("b: 2\n");
      expect((await store.getConfigRevision(r2.rev))?.note).toBe("n");
      expect(await store.getConfigRevision(r3.rev + 100)).toBeNull();
      expect((await store.listConfigRevisions({ role: "mx" })).map((r) => r.rev)).toEqual([r3.rev, r1.rev]);
      expect((await store.listConfigRevisions({ limit: 2 })).map((r) => r.rev)).toEqual([r3.rev, r2.rev]);
    });

    it("runs shadow candidates: per-node counts, differences, and one ending", async () => {
      const sh = await store.startShadow({
        role: "mx",
        text: "t: 1\n",
        author: "op",
        note: null,
        nodes: ["n1"],
      });
      expect(sh.state).toBe("running");
      expect(sh.nodes).toEqual(["n1"]);
      await store.startShadow({ role: "sub", text: "t: 2\n", author: "op", note: null, nodes: [] });
      expect((await store.listShadows({ role: "mx", state: "running" })).map((s) => s.id)).toEqual([sh.id]);
      const d = {
        messageId: "M1",
        at: new Date("2025-01-06T10:00:00Z"),
        sender: "s@x.org",
        recipient: "a@example.com",
        liveAction: "accept",
        shadowAction: "quarantine",
      };
      await store.recordShadow(sh.id, "n1", 3, [d]);
      await store.recordShadow(sh.id, "n1", 2, [{ ...d, messageId: "M2" }]);
      await store.recordShadow(sh.id, "n2", 1, []);
      const rep = await store.shadowReport(sh.id);
      expect(rep.evaluated).toEqual({ n1: 5, n2: 1 });
      expect(rep.diffs.map((x) => `${x.node}:${x.messageId}`)).toEqual(["n1:M2", "n1:M1"]);
      expect(rep.diffs[1]).toEqual({ ...d, node: "n1" });
      expect(await store.endShadow(sh.id, "discarded")).toBe(true);
      expect(await store.endShadow(sh.id, "published")).toBe(false);
      expect((await store.getShadow(sh.id))?.state).toBe("discarded");
      expect(await store.listShadows({ role: "mx", state: "running" })).toEqual([]);
    });

    it("keeps one heartbeat per node, the latest", async () => {
      const hb = {
        name: "n1",
        role: "mx",
        version: "0.1.0",
        startedAt: new Date("2025-01-06T10:00:00Z"),
        seenAt: new Date("2025-01-06T10:00:05Z"),
        appliedRev: null,
        health: "ok" as const,
        failedRev: null,
        error: null,
      };
      await store.putHeartbeat(hb);
      await store.putHeartbeat({ ...hb, name: "n0", role: "sub" });
      await store.putHeartbeat({ ...hb, appliedRev: 3, health: "apply_failed", failedRev: 4, error: "bad" });
      const all = await store.listHeartbeats();
      expect(all.map((h) => h.name)).toEqual(["n0", "n1"]);
      expect(all[1]).toEqual({ ...hb, appliedRev: 3, health: "apply_failed", failedRev: 4, error: "bad" });
    });

    // ---- sender authentication: DKIM keys ----

    const dkimKey = (domain: string, selector: string, extra: Partial<DkimKeyRecord> = {}) => ({
      domain,
      selector,
      tenant: "example",
      algorithm: "ed25519-sha256" as const,
      publicKey: `pub-${selector}`,
      sealedKey: Buffer.from([0, 1, 2, 255, selector.length]),
      createdAt: new Date("2026-01-01T00:00:00Z"),
      ...extra,
    });

    it("stores DKIM keys by domain and selector, the sealed blob byte for byte", async () => {
      await store.putDkimKey!(dkimKey("example.com", "s1"));
      await store.putDkimKey!(
        dkimKey("example.com", "s2", { createdAt: new Date("2026-02-01T00:00:00Z"), tenant: null }),
      );
      await store.putDkimKey!(dkimKey("other.example", "s1", { tenant: "other", algorithm: "rsa-sha256" }));
      const got = await store.getDkimKey!("Example.COM", "s1");
      expect(got).toEqual(dkimKey("example.com", "s1"));
      expect(Buffer.isBuffer(got!.sealedKey)).toBe(true);
      // Without a selector: the newest key of the domain.
      expect((await store.getDkimKey!("example.com"))!.selector).toBe("s2");
      expect(await store.getDkimKey!("example.com", "nope")).toBeNull();
      expect(await store.getDkimKey!("nothing.example")).toBeNull();
      const all = await store.listDkimKeys!({});
      expect(all.map((k) => `${k.domain}/${k.selector}`)).toEqual([
        "example.com/s1",
        "example.com/s2",
        "other.example/s1",
      ]);
      expect((await store.listDkimKeys!({ tenant: "other" })).map((k) => k.domain)).toEqual([
        "other.example",
      ]);
      expect((await store.listDkimKeys!({ domain: "EXAMPLE.com" })).length).toBe(2);
    });

    it("replaces a DKIM key put again under the same domain and selector", async () => {
      await store.putDkimKey!(dkimKey("example.com", "s1"));
      const again = dkimKey("example.com", "s1", {
        sealedKey: Buffer.from("replaced"),
        publicKey: "pub-new",
        algorithm: "rsa-sha256",
        createdAt: new Date("2026-03-01T00:00:00Z"),
      });
      await store.putDkimKey!(again);
      expect(await store.getDkimKey!("example.com", "s1")).toEqual(again);
      expect(await store.listDkimKeys!({ domain: "example.com" })).toHaveLength(1);
    });

    const grey = (at: number, extra: Partial<GreylistQuery> = {}): GreylistQuery => ({
      tenant: "example",
      network: "192.0.2.0/24",
      sender: "a@sender.example",
      recipient: "b@example.com",
      now: new Date(T0 + at * 1000),
      delayS: 300,
      retryWindowS: 86_400,
      expiryS: 30 * 86_400,
      autoAllowAfter: 3,
      autoAllowExpiryS: 30 * 86_400,
      ...extra,
    });

    it("greylists a triplet: new, early until the delay, passed, then known", async () => {
      expect(await store.greylist(grey(0))).toMatchObject({ state: "new", clientPasses: 0 });
      const early = await store.greylist(grey(299));
      expect(early.state).toBe("early");
      expect(early.firstSeen.getTime()).toBe(T0);
      expect(await store.greylist(grey(300))).toMatchObject({ state: "passed", clientPasses: 1 });
      expect(await store.greylist(grey(400))).toMatchObject({ state: "known", clientPasses: 2 });
      // Another recipient, tenant or network is another triplet.
      expect((await store.greylist(grey(400, { recipient: "c@example.com" }))).state).toBe("new");
      expect((await store.greylist(grey(400, { tenant: "other" }))).state).toBe("new");
      expect((await store.greylist(grey(400, { network: "198.51.100.0/24" }))).state).toBe("new");
    });

    it("greylisting starts over after the retry window, and after a passed triplet expires", async () => {
      await store.greylist(grey(0));
      const late = await store.greylist(grey(86_401));
      expect(late.state).toBe("new");
      expect(late.firstSeen.getTime()).toBe(T0 + 86_401_000);
      expect((await store.greylist(grey(86_401 + 300))).state).toBe("passed");
      const idle = 86_401 + 300 + 30 * 86_400 + 1;
      expect((await store.greylist(grey(idle))).state).toBe("new");
    });

    it("lets a client network through after autoAllowAfter passes, until it is idle too long", async () => {
      for (let i = 0; i < 3; i++) {
        const q = { recipient: `r${i}@example.com` };
        await store.greylist(grey(0, q));
        expect((await store.greylist(grey(300, q))).state).toBe("passed");
      }
      const allowed = await store.greylist(grey(301, { sender: "new@x.example" }));
      expect(allowed).toMatchObject({ state: "client-allowed", clientPasses: 4 });
      // Not for another tenant, and not with auto-allow off.
      expect((await store.greylist(grey(301, { tenant: "t2" }))).state).toBe("new");
      expect((await store.greylist(grey(301, { sender: "n2@x.example", autoAllowAfter: 0 }))).state).toBe(
        "new",
      );
      // Idle past its expiry: greylisted again.
      expect((await store.greylist(grey(301 + 30 * 86_400 + 1, { sender: "n3@x.example" }))).state).toBe(
        "new",
      );
    });

    it("two sightings of a new triplet at once agree: one is new, the other early", async () => {
      const both = await Promise.all([store.greylist(grey(0)), store.greylist(grey(1))]);
      expect(both.map((b) => b.state).sort()).toEqual(["early", "new"]);
    });

    it("prunes greylist entries not seen since a time", async () => {
      await store.greylist(grey(0));
      await store.greylist(grey(10, { recipient: "x@example.com" }));
      expect(await store.pruneGreylist(new Date(T0 + 5000), new Date(T0))).toBe(1);
      expect((await store.greylist(grey(400))).state).toBe("new");
      expect((await store.greylist(grey(400, { recipient: "x@example.com" }))).state).toBe("passed");
    });

    it("counts rates in fixed windows and returns the window before", async () => {
      const at = (s: number) => new Date(T0 + s * 1000);
      expect(await store.countRates([], 60, at(0))).toEqual([]);
      const a = await store.countRates(
        [
          { key: "user:a", amount: 1 },
          { key: "rcpts:a", amount: 3 },
          { key: "user:a", amount: 1 },
        ],
        60,
        at(0),
      );
      expect(a).toEqual([
        { key: "user:a", current: 2, previous: 0 },
        { key: "rcpts:a", current: 3, previous: 0 },
      ]);
      expect(await store.countRates([{ key: "user:a", amount: 1 }], 60, at(1))).toEqual([
        { key: "user:a", current: 3, previous: 0 },
      ]);
      // Give back (an over-limit attempt that is not let through).
      expect(await store.countRates([{ key: "user:a", amount: -1 }], 60, at(2))).toEqual([
        { key: "user:a", current: 2, previous: 0 },
      ]);
      // T0 is a window start: 60 s on is the next window, which sees this one as "previous".
      expect(await store.countRates([{ key: "user:a", amount: 1 }], 60, at(60))).toEqual([
        { key: "user:a", current: 1, previous: 2 },
      ]);
      expect(await store.countRates([{ key: "user:a", amount: 1 }], 60, at(180))).toEqual([
        { key: "user:a", current: 1, previous: 0 },
      ]);
      expect(await store.pruneRates(at(120))).toBe(3);
      expect(await store.countRates([{ key: "rcpts:a", amount: 1 }], 60, at(181))).toEqual([
        { key: "rcpts:a", current: 1, previous: 0 },
      ]);
    });

    it("counts concurrent increments of one key exactly", async () => {
      const now = new Date(T0);
      await Promise.all(
        Array.from({ length: 25 }, () => store.countRates([{ key: "k", amount: 1 }], 3600, now)),
      );
      expect(await store.countRates([{ key: "k", amount: 0 }], 3600, now)).toEqual([
        { key: "k", current: 25, previous: 0 },
      ]);
    });

    it("keeps spam lessons once per scope, message and label, in id order, with counts", async () => {
      const lesson = (over: Partial<SpamLessonInput>): SpamLessonInput => ({
        scope: "",
        tenant: "example",
        label: "spam",
        source: "feedback",
        actor: "alice@example.com",
        recipient: "alice@example.com",
        sender: "x@spam.example",
        hash: "h1",
        tokenizer: 3,
        features: Buffer.from([1, 0, 0, 0, 7, 0, 0, 0]),
        disagrees: true,
        createdAt: new Date(T0),
        ...over,
      });
      const spamLearning = store as Store & SpamLearningStore;
      const a = await spamLearning.addSpamLesson(lesson({}));
      expect(a).toMatchObject({ scope: "", label: "spam", disagrees: true, hash: "h1" });
      expect(a!.features.equals(Buffer.from([1, 0, 0, 0, 7, 0, 0, 0]))).toBe(true);
      expect(await spamLearning.addSpamLesson(lesson({ source: "autolearn", actor: null }))).toBeNull();
      const b = await spamLearning.addSpamLesson(lesson({ label: "ham", disagrees: false }));
      const c = await spamLearning.addSpamLesson(
        lesson({ scope: "example", hash: "h2", source: "autolearn" }),
      );
      expect(b!.id).toBeGreaterThan(a!.id);
      expect(
        (await spamLearning.listSpamLessons({ scope: "", afterId: 0, limit: 10 })).map((l) => l.id),
      ).toEqual([a!.id, b!.id]);
      expect(await spamLearning.listSpamLessons({ scope: "", afterId: a!.id, limit: 10 })).toHaveLength(1);
      expect(await spamLearning.countSpamLessons({ actor: "alice@example.com", since: new Date(T0) })).toBe(
        3,
      );
      expect(await spamLearning.countSpamLessons({ sources: ["autolearn"] })).toBe(1);
      expect(await spamLearning.countSpamLessons({ scope: "", label: "ham", hash: "h1" })).toBe(1);
      expect(await spamLearning.countSpamLessons({ since: new Date(T0 + 1) })).toBe(0);
      expect(await spamLearning.spamLessonStats()).toEqual([
        { scope: "", label: "ham", source: "feedback", count: 1, disagreements: 0 },
        { scope: "", label: "spam", source: "feedback", count: 1, disagreements: 1 },
        { scope: "example", label: "spam", source: "autolearn", count: 1, disagreements: 1 },
      ]);
      expect(c!.scope).toBe("example");
    });

    it("publishes spam model revisions per scope, newest first, bytes kept exactly", async () => {
      const spamLearning = store as Store & SpamLearningStore;
      expect(await spamLearning.latestSpamModel("")).toBeNull();
      const bytes = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) % 256));
      const r1 = await spamLearning.publishSpamModel({
        scope: "",
        model: bytes,
        lessonsUpTo: 4,
        author: "compaction",
        note: null,
        rollbackOf: null,
      });
      const r2 = await spamLearning.publishSpamModel({
        scope: "",
        model: Buffer.from("second"),
        lessonsUpTo: 9,
        author: "admin",
        note: "rollback",
        rollbackOf: r1.rev,
      });
      await spamLearning.publishSpamModel({
        scope: "tenant-a",
        model: Buffer.from("t"),
        lessonsUpTo: 0,
        author: "compaction",
        note: null,
        rollbackOf: null,
      });
      expect(r2.rev).toBeGreaterThan(r1.rev);
      const latest = await spamLearning.latestSpamModel("");
      expect(latest).toMatchObject({ rev: r2.rev, lessonsUpTo: 9, rollbackOf: r1.rev, note: "rollback" });
      expect((await spamLearning.getSpamModel(r1.rev))!.model.equals(bytes)).toBe(true);
      const list = await spamLearning.listSpamModels({ scope: "" });
      expect(list.map((r) => r.rev)).toEqual([r2.rev, r1.rev]);
      expect(list[0]!.model.length).toBe(0);
      expect(await spamLearning.listSpamModels({})).toHaveLength(3);
    });
  });
}
