// Spam feedback over the console API: an end user reports a message they have (spam / not spam)
// and it becomes a lesson for their model, counted with the disagreement; a tenant admin reports
// only for recipients of their tenant; the operator sees the lessons, compacts and rolls back.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { ApiClient, startWebNode, type WebNode } from "../helpers/web.ts";
import { createAccount } from "../../src/web/auth/accounts.ts";
import { hashPassword } from "../../src/policy/password.ts";

const config = (dir: string) => `
node: { name: web-spam }
store: sqlite:${dir}/s.db
delivery: maildir:${dir}/maildir
tenants:
  - { id: a, domains: [a.example] }
  - { id: b, domains: [b.example] }
`;

const MESSAGE = Buffer.from(
  "From: club@gnomes.example\r\nTo: carol@a.example\r\nSubject: quarterly garden gnome auction\r\n\r\n" +
    "Bid on garden gnomes in the quarterly auction, lots 14 to 22, viewing on Tuesday.\r\n",
).toString("base64");

describe("spam feedback API", () => {
  let node: WebNode;
  beforeAll(async () => {
    node = await startWebNode(config);
    const store = node.runtime.store!;
    await createAccount(store, node.runtime.config, {
      login: "admin-b",
      role: "tenant_admin",
      tenant: "b",
      password: "password-b-123",
    });
    await createAccount(store, node.runtime.config, {
      login: "root",
      role: "operator",
      password: "operator-pass-1",
    });
    await store.putUser({
      id: "carol@a.example",
      tenant: "a",
      address: "carol@a.example",
      aliases: [],
      language: null,
      spamFilter: true,
      thresholds: {},
      whitelist: [],
      blacklist: [],
      sendAs: [],
      passwordHash: await hashPassword("carol-secret-1"),
    });
  }, 60_000);
  afterAll(async () => {
    await node?.close();
  });

  it("turns a user's report into a lesson, and scopes admins to their tenant", async () => {
    const anon = new ApiClient(node.base);
    expect((await anon.post("/api/spam/report", { label: "spam", message: MESSAGE })).status).toBe(401);
    const carol = new ApiClient(node.base);
    expect((await carol.login("carol@a.example", "carol-secret-1")).status).toBe(200);
    const r = await carol.post("/api/spam/report", { label: "spam", message: MESSAGE });
    expect(r.status).toBe(200);
    expect(r.body.outcome).toBe("learned");
    expect((await carol.post("/api/spam/report", { label: "spam", message: MESSAGE })).body.outcome).toBe(
      "duplicate",
    );
    expect(
      (await carol.post("/api/spam/report", { label: "ham", message: "bm90IGEgbWVzc2FnZQ==" })).status,
    ).toBe(400);
    expect((await carol.get("/api/spam/status")).status).toBe(403);
    const adminB = new ApiClient(node.base);
    await adminB.login("admin-b", "password-b-123");
    const other = await adminB.post("/api/spam/report", {
      label: "ham",
      message: MESSAGE,
      recipient: "carol@a.example",
    });
    expect(other.status).toBe(404);

    const root = new ApiClient(node.base);
    expect((await root.login("root", "operator-pass-1")).status).toBe(200);
    const status = await root.get("/api/spam/status");
    expect(status.body.lessons).toEqual([
      { scope: "", label: "spam", source: "feedback", count: 1, disagreements: expect.any(Number) },
    ]);
    // Lessons settle for 10 s before compaction takes them.
    await new Promise((res) => setTimeout(res, 10_500));
    const c = await root.post("/api/spam/compact", {});
    expect(c.body).toEqual({ revision: 1 });
    const rb = await root.post("/api/spam/models/1/rollback");
    expect(rb.body).toEqual({ revision: 2 });
    expect((await root.post("/api/spam/models/99/rollback")).status).toBe(404);
  }, 60_000);
});
