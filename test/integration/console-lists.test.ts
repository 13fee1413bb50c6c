// Quarantine and message log for thousands of rows (issue 23, item 5), over the API the console
// uses: server-side paging with totals, sorting, search by subject/sender/recipient/ref, bulk
// actions with one result per id (other tenants' ids are "not found"), and what each caller may
// do with an entry (no release of virus mail for an end user).
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { ApiClient, quarantineInput, startWebNode, type WebNode } from "../helpers/web.ts";
import { createAccount } from "../../src/web/auth/accounts.ts";
import { hashPassword } from "../../src/policy/password.ts";

const HASH = await hashPassword("carol-pass-123");
const config = (dir: string) => `
node: { name: lists }
store: sqlite:${dir}/s.db
delivery: maildir:${dir}/maildir
tenants:
  - id: acme
    domains: [acme.test]
    users:
      - { address: carol@acme.test, password_hash: "${HASH}" }
  - id: globex
    domains: [globex.test]
`;

describe("quarantine and log lists", { timeout: 60_000 }, () => {
  let node: WebNode;
  let admin: ApiClient;
  let carol: ApiClient;

  beforeAll(async () => {
    node = await startWebNode(config);
    const store = node.runtime.store!;
    for (let n = 1; n <= 120; n++) {
      const q = quarantineInput(
        `QA${String(n).padStart(3, "0")}`,
        "acme",
        [n % 2 ? "carol@acme.test" : "dave@acme.test"],
        `Subject: offer ${n}\n\nbody ${n}\n`,
        n === 77 ? "Quarterly invoice" : `Offer number ${n}`,
      );
      q.score = n / 10;
      if (n % 10 === 1) q.symbols = [{ name: "CLAMAV_VIRUS", score: 0, detail: "Eicar-Test-Signature" }];
      await store.putQuarantine(q);
    }
    await store.putQuarantine(quarantineInput("QG1", "globex", ["gus@globex.test"], "Subject: g\n\ng\n"));
    for (let n = 1; n <= 70; n++) {
      await store.logMessage({
        id: `LOGREF${String(n).padStart(3, "0")}`,
        at: new Date(Date.now() - n * 60_000),
        tenant: "acme",
        ingress: "inbound",
        clientAddress: "192.0.2.1",
        sender: `s${n}@remote.example`,
        subject: n === 33 ? "Quarterly invoice" : `message ${n}`,
        size: 100,
        recipients: [{ address: "carol@acme.test", action: "accept", score: 0, symbols: [], trace: [] }],
      });
    }
    await createAccount(store, node.runtime.config, {
      login: "acme-admin",
      role: "tenant_admin",
      tenant: "acme",
      password: "acme-pass-1234",
    });
    admin = new ApiClient(node.base);
    await admin.login("acme-admin", "acme-pass-1234");
    carol = new ApiClient(node.base);
    await carol.login("carol@acme.test", "carol-pass-123");
  });
  afterAll(async () => node?.close());

  type Q = {
    id: string;
    score: number;
    allowed: { release: boolean; delete: boolean; releaseNote: string | null };
  };

  it("pages, sorts and counts on the server", async () => {
    const r = await admin.get("/api/quarantine?limit=50&offset=50&sort=score&order=asc");
    expect(r.body.total).toBe(120);
    const items = r.body.items as Q[];
    expect(items.length).toBe(50);
    expect(items[0]!.id).toBe("QA051");
    expect(items.map((i) => i.score)).toEqual([...items.map((i) => i.score)].sort((a, b) => a - b));
    const last = await admin.get("/api/quarantine?limit=50&offset=100");
    expect((last.body.items as Q[]).length).toBe(20);
  });

  it("searches by subject, sender, recipient and id, within the caller's tenant", async () => {
    const ids = async (q: string) =>
      ((await admin.get(`/api/quarantine?q=${encodeURIComponent(q)}`)).body.items as Q[]).map((i) => i.id);
    expect(await ids("quarterly")).toEqual(["QA077"]);
    expect(await ids("QA10")).toEqual([
      "QA109",
      "QA108",
      "QA107",
      "QA106",
      "QA105",
      "QA104",
      "QA103",
      "QA102",
      "QA101",
      "QA100",
    ]);
    expect((await admin.get("/api/quarantine?q=dave@acme")).body.total).toBe(60);
    expect((await admin.get("/api/quarantine?q=spammer@remote")).body.total).toBe(120);
    expect(await ids("gus@globex")).toEqual([]);
  });

  it("an end user is not offered the release of virus mail; the server agrees", async () => {
    const mine = (await carol.get("/api/quarantine?limit=100")).body.items as Q[];
    expect(mine.length).toBe(60);
    const virus = mine.find((i) => i.id === "QA011")!;
    const clean = mine.find((i) => i.id === "QA013")!;
    expect(virus.allowed).toMatchObject({ release: false, delete: true, releaseNote: "admin-only" });
    expect(clean.allowed).toMatchObject({ release: true, delete: true, releaseNote: null });
    expect((await carol.post("/api/quarantine/QA011/release", {})).status).toBe(403);
    const bulk = await carol.post("/api/quarantine/bulk", { ids: ["QA011", "QA013"], action: "release" });
    expect(bulk.status).toBe(200);
    expect(bulk.body.results).toEqual([
      { id: "QA011", ok: false, detail: expect.stringContaining("administrator") },
      { id: "QA013", ok: true },
    ]);
    // The admin may release the virus copy.
    const adminView = (await admin.get("/api/quarantine/QA021")).body as Q;
    expect(adminView.allowed.release).toBe(true);
    // Released entries offer neither release nor delete any more.
    const done = ((await carol.get("/api/quarantine?state=released")).body.items as Q[]).find(
      (i) => i.id === "QA013",
    )!;
    expect(done.allowed).toMatchObject({ release: false, delete: false });
  });

  it("bulk delete acts per id; another tenant's id is not found and nothing else fails", async () => {
    const r = await admin.post("/api/quarantine/bulk", { ids: ["QA002", "QA004", "QG1"], action: "delete" });
    expect(r.body).toMatchObject({ ok: 2, failed: 1 });
    expect(r.body.results).toContainEqual({ id: "QG1", ok: false, detail: "no such quarantine entry" });
    expect((await node.runtime.store!.getQuarantine("QA002"))!.recipients[0]!.state).toBe("deleted");
    expect((await node.runtime.store!.getQuarantine("QG1"))!.recipients[0]!.state).toBe("quarantined");
    expect(
      (await carol.post("/api/quarantine/bulk", { ids: ["QA001"], action: "release-learn" })).status,
    ).toBe(403);
  });

  it("the message log pages and finds an entry by reference id or subject", async () => {
    const page = await admin.get("/api/log?limit=20&offset=60");
    expect(page.body.total).toBe(70);
    expect((page.body.entries as { id: string }[]).length).toBe(10);
    const byRef = await admin.get("/api/log?q=logref042");
    expect((byRef.body.entries as { id: string }[]).map((e) => e.id)).toEqual(["LOGREF042"]);
    const bySubject = await carol.get("/api/log?q=quarterly");
    expect((bySubject.body.entries as { id: string }[]).map((e) => e.id)).toEqual(["LOGREF033"]);
    const sorted = await admin.get("/api/log?sort=sender&order=asc&limit=1");
    expect((sorted.body.entries as { sender: string }[])[0]!.sender).toBe("s10@remote.example");
  });

  it("the hold queue offers send-now only when it can succeed, approve only to an approver", async () => {
    const store = node.runtime.store!;
    const env = quarantineInput("H", "acme", ["partner@remote.example"], "x").envelope;
    env.mailFrom = { address: "carol@acme.test", params: {} };
    for (const id of ["HPLAIN", "HAPPROVAL"])
      await store.putHold({
        id,
        tenant: "acme",
        envelope: env,
        reason: "external",
        releaseAt: new Date(Date.now() + 3600_000),
        message: Buffer.from("Subject: h\r\n\r\nh\r\n"),
      });
    await store.updateHold("HAPPROVAL", { approver: "chief@acme.test" });
    const items = (await admin.get("/api/hold")).body.items as {
      id: string;
      allowed: Record<string, boolean>;
    }[];
    const by = (id: string) => items.find((i) => i.id === id)!.allowed;
    expect(by("HPLAIN")).toEqual({ release: true, cancel: true, approve: false });
    expect(by("HAPPROVAL")).toEqual({ release: false, cancel: true, approve: false });
  });
});
