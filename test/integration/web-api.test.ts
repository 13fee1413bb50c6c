// The console API over real HTTP: login, sessions, CSRF, throttling, roles and tenant
// isolation (a tenant admin of A gets 404 for B's objects), quarantine preview and release
// to a Maildir, users and lists (limit), audit log, tools, dashboard, OpenAPI document.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../helpers/cli.ts";
import { ApiClient, quarantineInput, startWebNode, type WebNode } from "../helpers/web.ts";
import { createAccount } from "../../src/web/auth/accounts.ts";
import { hashPassword } from "../../src/policy/password.ts";
import { LinkKeys } from "../../src/quarantine/index.ts";

const LINK_SECRET = "test-link-secret-0123456789abcdefghij";
const config = (dir: string) => `
node: { name: web-test, link_secret: ${LINK_SECRET} }
store: sqlite:${dir}/s.db
delivery: maildir:${dir}/maildir
policy:
  thresholds: { tag: 5, quarantine: 10, reject: 20 }
tenants:
  - id: a
    domains: [a.example]
    users:
      - address: cfg@a.example
  - id: b
    domains: [b.example]
`;

const HTML_MAIL = `From: Spammer <spammer@remote.example>
To: carol@a.example
Subject: =?UTF-8?B?PGltZyBzcmM9eCBvbmVycm9yPWFsZXJ0KDEpPg==?=
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8

plain part here
--b1
Content-Type: text/html; charset=utf-8

<p onclick="alert(1)">Hello <b>there</b></p><script>alert(1)</script><img src="https://tracker.example/p.gif"><img src="data:image/png;base64,iVBORw0KGgo="><a href="javascript:alert(1)">x</a><iframe src="https://evil.example"></iframe><style>body{background:url(https://evil.example/x)}</style>
--b1--
`;

describe("console API", () => {
  let node: WebNode;
  const op = () => new ApiClient(node.base);
  let opc: ApiClient;
  let adminA: ApiClient;

  beforeAll(async () => {
    node = await startWebNode(config);
    const store = node.runtime.store!;
    const cfg = node.runtime.config;
    await createAccount(store, cfg, {
      login: "admin-a",
      role: "tenant_admin",
      tenant: "a",
      password: "password-a-123",
    });
    await createAccount(store, cfg, {
      login: "admin-b",
      role: "tenant_admin",
      tenant: "b",
      password: "password-b-123",
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
    await store.putUser({
      id: "dave@b.example",
      tenant: "b",
      address: "dave@b.example",
      aliases: [],
      language: null,
      spamFilter: true,
      thresholds: {},
      whitelist: [],
      blacklist: [],
      sendAs: [],
      passwordHash: null,
    });
    await store.putQuarantine(
      quarantineInput(
        "QA1",
        "a",
        ["carol@a.example", "erin@a.example"],
        HTML_MAIL,
        "<img src=x onerror=alert(1)>",
      ),
    );
    await store.putQuarantine(quarantineInput("QB1", "b", ["dave@b.example"], "Subject: b\n\nfor b\n"));
    const env = quarantineInput("H", "b", ["dave@b.example"], "x").envelope;
    await store.putHold({
      id: "HB1",
      tenant: "b",
      envelope: env,
      reason: "send later",
      releaseAt: new Date(Date.now() + 3600_000),
      message: Buffer.from("Subject: h\r\n\r\nheld\r\n"),
    });
    await store.logMessage({
      id: "LA1",
      at: new Date(),
      tenant: "a",
      ingress: "inbound",
      clientAddress: "192.0.2.1",
      sender: "spammer@remote.example",
      subject: "s",
      size: 10,
      recipients: [
        {
          address: "carol@a.example",
          action: "quarantine",
          score: 15,
          symbols: [{ name: "BAYES_SPAM", score: 15 }],
          trace: [{ filter: "spam-classifier", ran: true }],
        },
        {
          address: "erin@a.example",
          action: "accept",
          score: 0,
          symbols: [],
          trace: [{ filter: "spam-classifier", skipped: "spam filter OFF for this user" }],
        },
      ],
    });
    await store.logMessage({
      id: "LB1",
      at: new Date(),
      tenant: "b",
      ingress: "inbound",
      clientAddress: "192.0.2.1",
      sender: "x@remote.example",
      subject: "s",
      size: 10,
      recipients: [{ address: "dave@b.example", action: "accept", score: 0, symbols: [], trace: [] }],
    });
    adminA = op();
    expect((await adminA.login("admin-a", "password-a-123")).status).toBe(200);
  });
  afterAll(async () => node?.close());

  it("bootstraps an operator with `sluice web adduser` (scrypt hash) and logs in with a secure session cookie", async () => {
    const cfgFile = join(node.dir, "sluice.yaml");
    await import("node:fs").then((fs) => fs.writeFileSync(cfgFile, config(node.dir)));
    const r = await run(["web", "adduser", "root", "--role", "operator", "--config", cfgFile], {
      input: "operator-pass-1\n",
    });
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("console account root (operator) saved");
    expect((await node.runtime.store!.getAccount("root"))?.passwordHash).toMatch(/^scrypt\$/);
    const short = await run(["web", "adduser", "x2", "--config", cfgFile], { input: "short\n" });
    expect(short.code).toBe(2);

    opc = op();
    const res = await opc.login("root", "operator-pass-1");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ role: "operator", subject: "root" });
    const cookie = res.headers.get("set-cookie")!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect((await opc.get("/api/auth/me")).body.role).toBe("operator");
  });

  it("answers problem+json, refuses wrong passwords and throttles repeated failures", async () => {
    const c = op();
    const bad = await c.login("admin-b", "wrong");
    expect(bad.status).toBe(401);
    expect(bad.headers.get("content-type")).toContain("application/problem+json");
    expect(bad.body).toMatchObject({ status: 401, title: "wrong login or password" });
    for (let i = 0; i < 4; i++) await c.login("admin-b", "wrong");
    const limited = await c.login("admin-b", "password-b-123");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await op().get("/api/quarantine")).status).toBe(401);
  });

  it("requires the CSRF token and a same-origin Origin on changes", async () => {
    const noToken = await adminA.call(
      "PUT",
      "/api/users/carol@a.example",
      { spamFilter: false },
      { "x-csrf-token": "nope" },
    );
    expect(noToken.status).toBe(403);
    expect(noToken.body.title).toBe("missing or wrong CSRF token");
    const crossOrigin = await adminA.call(
      "PUT",
      "/api/users/carol@a.example",
      { spamFilter: false },
      { origin: "https://evil.example" },
    );
    expect(crossOrigin.status).toBe(403);
    expect((await node.runtime.store!.getUser("carol@a.example"))?.spamFilter).toBe(true);
  });

  it("isolates tenants: admin of A gets 404 for B's quarantine, users, templates, log and hold", async () => {
    expect((await adminA.get("/api/quarantine/QB1")).status).toBe(404);
    expect((await adminA.get("/api/quarantine/QB1/preview")).status).toBe(404);
    expect((await adminA.post("/api/quarantine/QB1/release", {})).status).toBe(404);
    expect((await adminA.post("/api/quarantine/QB1/delete", {})).status).toBe(404);
    expect((await adminA.get("/api/users/dave@b.example")).status).toBe(404);
    expect((await adminA.put("/api/users/dave@b.example", { spamFilter: false })).status).toBe(404);
    expect((await adminA.put("/api/users/dave@b.example/lists/whitelist", { entries: [] })).status).toBe(404);
    expect((await adminA.get("/api/users?tenant=b")).status).toBe(404);
    expect((await adminA.get("/api/tenants/b/templates")).status).toBe(404);
    expect((await adminA.post("/api/tenants/b/templates/preview", { subject: "x", body: "y" })).status).toBe(
      404,
    );
    expect(
      (await adminA.post("/api/tenants/b/dkim-keygen", { domain: "b.example", selector: "s1" })).status,
    ).toBe(404);
    expect((await adminA.get("/api/log/LB1")).status).toBe(404);
    expect((await adminA.post("/api/hold/HB1/cancel", {})).status).toBe(404);
    expect((await adminA.post("/api/users", { address: "new@b.example" })).status).toBe(404);
    const list = await adminA.get("/api/quarantine");
    expect((list.body.items as { id: string }[]).map((i) => i.id)).toEqual(["QA1"]);
    expect(((await adminA.get("/api/log")).body.entries as { id: string }[]).map((e) => e.id)).toEqual([
      "LA1",
    ]);
    expect(((await adminA.get("/api/tenants")).body.tenants as { id: string }[]).map((t) => t.id)).toEqual([
      "a",
    ]);
    expect((await adminA.get("/api/hold")).body.items).toEqual([]);
    expect((await adminA.get("/api/accounts")).status).toBe(403);
    // and the operator sees both
    expect(((await opc.get("/api/quarantine")).body.items as unknown[]).length).toBe(2);
  });

  it("previews quarantined HTML sanitised, in a CSP-locked document, with the plain text", async () => {
    const r = await adminA.get("/api/quarantine/QA1/preview");
    expect(r.status).toBe(200);
    const html = String(r.body.html);
    expect(r.body.text).toContain("plain part here");
    expect(r.body.subject).toBe("<img src=x onerror=alert(1)>");
    expect(html).toContain("Content-Security-Policy");
    expect(html).toContain("default-src 'none'");
    expect(html).toContain("<b>there</b>");
    expect(html).toContain('src="data:image/png');
    for (const bad of [
      "<script",
      "onclick",
      "tracker.example",
      "javascript:",
      "<iframe",
      "evil.example",
      "<style",
    ]) {
      expect(html).not.toContain(bad);
    }
  });

  it("manages users and lists within the tenant: 20-entry limit, validation, config users read-only, audit before/after", async () => {
    const created = await adminA.post("/api/users", {
      address: "frank@a.example",
      password: "frank-pass-1",
      spamFilter: true,
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ tenant: "a", source: "store", maxEntries: 20 });
    const twenty = Array.from({ length: 20 }, (_, i) => `s${i}@x.example`);
    expect((await adminA.put("/api/users/frank@a.example/lists/blacklist", { entries: twenty })).status).toBe(
      200,
    );
    const over = await adminA.put("/api/users/frank@a.example/lists/blacklist", {
      entries: [...twenty, "one-more.example"],
    });
    expect(over.status).toBe(422);
    expect(over.body).toMatchObject({ title: "list limit exceeded", maxEntries: 20, entries: 21 });
    expect(String(over.body.detail)).toContain("at most 20 entries");
    expect((await node.runtime.store!.getUser("frank@a.example"))?.blacklist.length).toBe(20);
    const invalid = await adminA.put("/api/users/frank@a.example/lists/whitelist", {
      entries: ["not an address"],
    });
    expect(invalid.status).toBe(400);
    // A user of the configuration file keeps its entry there; the change is its override (#23).
    const cfgUser = await adminA.put("/api/users/cfg@a.example", { spamFilter: false });
    expect(cfgUser.status).toBe(200);
    expect(cfgUser.body).toMatchObject({
      source: "config",
      spamFilter: false,
      overridden: { spamFilter: true },
    });
    const cfgPw = await adminA.put("/api/users/cfg@a.example", { password: "new-password-1" });
    expect(cfgPw.status).toBe(409);
    expect(String(cfgPw.body.detail)).toContain("configuration file");
    expect((await adminA.put("/api/users/frank@a.example", { spamFilter: false })).body.spamFilter).toBe(
      false,
    );
    const users = (await adminA.get("/api/users")).body.users as { address: string; source: string }[];
    expect(users.map((u) => `${u.address}:${u.source}`).sort()).toEqual([
      "carol@a.example:store",
      "cfg@a.example:config",
      "frank@a.example:store",
    ]);
    const audit = (await adminA.get("/api/audit")).body.entries as {
      action: string;
      actor: string;
      before: unknown;
      after: unknown;
      target: string;
    }[];
    const upd = audit.find((e) => e.action === "user.update" && e.target === "frank@a.example")!;
    expect(upd).toMatchObject({
      actor: "tenant_admin:admin-a",
      before: { spamFilter: true },
      after: { spamFilter: false },
    });
    expect(audit.some((e) => e.action === "user.blacklist")).toBe(true);
    expect(audit.every((e) => !JSON.stringify(e).includes("scrypt$"))).toBe(true);
    expect((await adminA.del("/api/users/frank@a.example")).status).toBe(200);
    expect(await node.runtime.store!.getUser("frank@a.example")).toBeNull();
  });

  it("lets an end user log in with directory credentials and manage only their own filter, lists and quarantine", async () => {
    const u = op();
    const res = await u.login("carol@a.example", "carol-secret-1");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ role: "user", tenant: "a" });
    expect((await u.get("/api/users")).status).toBe(403);
    expect((await u.get("/api/hold")).status).toBe(403);
    const off = await u.put("/api/me/settings", { spamFilter: false });
    expect(off.status).toBe(200);
    expect((await node.runtime.store!.getUser("carol@a.example"))?.spamFilter).toBe(false);
    expect(
      (await node.runtime.resolver.forRecipient("carol@a.example")).filters["spam-classifier"]?.enabled,
    ).toBe(false);
    expect((await u.get("/api/me/settings")).body.effectiveSpamFilter).toBe(false);
    expect((await u.put("/api/me/lists/whitelist", { entries: ["friend@x.example"] })).body.entries).toEqual([
      "friend@x.example",
    ]);
    const q = (await u.get("/api/quarantine")).body.items as {
      id: string;
      recipients: { address: string }[];
    }[];
    expect(q.map((i) => i.id)).toEqual(["QA1"]);
    expect(q[0]!.recipients.map((r) => r.address)).toEqual(["carol@a.example"]);
    expect((await u.get("/api/quarantine/QB1")).status).toBe(404);
    expect((await u.post("/api/quarantine/QA1/release", { recipients: ["erin@a.example"] })).status).toBe(
      404,
    );
    const log = (await u.get("/api/log")).body.entries as { recipients: { address: string }[] }[];
    expect(log.flatMap((e) => e.recipients.map((r) => r.address))).toEqual(["carol@a.example"]);
    await u.put("/api/me/settings", { spamFilter: true });
    expect((await u.post("/api/auth/logout", {})).status).toBe(200);
    expect((await u.get("/api/auth/me")).status).toBe(401);
  });

  it("releases a quarantined message to the next hop (Maildir) for one recipient and records it", async () => {
    const r = await adminA.post("/api/quarantine/QA1/release", { recipients: ["carol@a.example"] });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ released: ["carol@a.example"], failed: [] });
    const dir = join(node.dir, "maildir", "a.example", "carol", "new");
    expect(existsSync(dir)).toBe(true);
    const files = readdirSync(dir);
    expect(files.length).toBe(1);
    expect(readFileSync(join(dir, files[0]!), "utf8")).toContain("plain part here");
    const item = (await adminA.get("/api/quarantine/QA1")).body as {
      recipients: { address: string; state: string }[];
    };
    expect(item.recipients.map((x) => `${x.address}:${x.state}`)).toEqual([
      "carol@a.example:released",
      "erin@a.example:quarantined",
    ]);
    const again = await adminA.post("/api/quarantine/QA1/release", { recipients: ["carol@a.example"] });
    expect(again.body).toMatchObject({ released: [] });
    expect(readdirSync(dir).length).toBe(1);
    const del = await adminA.post("/api/quarantine/QA1/delete", { recipients: ["erin@a.example"] });
    expect(del.status).toBe(200);
    expect(
      (await node.runtime.store!.getQuarantine("QA1"))?.recipients.find((x) => x.address === "erin@a.example")
        ?.state,
    ).toBe("deleted");
    const audit = (await adminA.get("/api/audit")).body.entries as { action: string }[];
    expect(audit.map((e) => e.action)).toEqual(
      expect.arrayContaining(["quarantine.release", "quarantine.delete"]),
    );
  });

  it("cancels a held message of the admin's own tenant", async () => {
    // admin-b is throttled by the test above; the operator acts on tenant b
    const r = await opc.post("/api/hold/HB1/cancel", {});
    expect(r.status).toBe(200);
    expect(r.body.state).toBe("cancelled");
    expect((await opc.post("/api/hold/HB1/cancel", {})).status).toBe(409);
  });

  it("checks Sieve, previews templates (with error positions) and generates DKIM keys for own domains", async () => {
    const ok = await adminA.post("/api/tools/sieve-check", {
      script: 'require "fileinto";\nif header :contains "subject" "x" { fileinto "Junk"; }\n',
    });
    expect(ok.body).toEqual({ ok: true, errors: [], warnings: [] });
    const bad = await adminA.post("/api/tools/sieve-check", { script: "if true {\n  keep\n}\n" });
    expect(bad.body.ok).toBe(false);
    expect((bad.body.errors as { line: number }[])[0]!.line).toBeGreaterThan(1);
    const t = await adminA.get("/api/tenants/a/templates");
    expect(
      (t.body.templates as Record<string, Record<string, { subject: string }>>).recipient!.ja!.subject,
    ).toContain("ウイルス");
    const prev = await adminA.post("/api/tenants/a/templates/preview", {
      subject: "件名: {subject}",
      body: "ウイルス {virus} / {tenant}",
    });
    expect(prev.body).toEqual({
      subject: "件名: Invoice 2024-001",
      body: "ウイルス Eicar-Test-Signature / a",
    });
    const wrong = await adminA.post("/api/tenants/a/templates/preview", { subject: "{subjct}", body: "" });
    expect(wrong.status).toBe(422);
    expect(String(wrong.body.detail)).toContain("did you mean {subject}");
    const key = await adminA.post("/api/tenants/a/dkim-keygen", {
      domain: "a.example",
      selector: "s1",
      type: "ed25519",
    });
    expect(key.status).toBe(200);
    expect(key.body.name).toBe("s1._domainkey.a.example");
    expect(String(key.body.privatePem)).toContain("BEGIN PRIVATE KEY");
    expect(String(key.body.dnsTxt)).toMatch(/^v=DKIM1; k=ed25519; p=/);
    expect(
      (await adminA.post("/api/tenants/a/dkim-keygen", { domain: "b.example", selector: "s1" })).status,
    ).toBe(400);
    // With the node's secret key the key goes into the store, sealed, and the PEM is never shown.
    process.env.SLUICE_SECRET_KEY = "11".repeat(32);
    try {
      const stored = await adminA.post("/api/tenants/a/dkim-keygen", { domain: "a.example", selector: "s2" });
      expect(stored.body).toMatchObject({ stored: true, privatePem: null, name: "s2._domainkey.a.example" });
    } finally {
      delete process.env.SLUICE_SECRET_KEY;
    }
    const keys = (await adminA.get("/api/tenants/a/dkim-keys")).body.keys as {
      name: string;
      dnsTxt: string;
    }[];
    expect(keys.map((k) => k.name)).toEqual(["s2._domainkey.a.example"]);
    expect(keys[0]!.dnsTxt).toMatch(/^v=DKIM1; k=rsa; p=/);
    expect((await adminA.get("/api/tenants/b/dkim-keys")).status).toBe(404);
    const sealed = await node.runtime.store!.getDkimKey!("a.example", "s2");
    expect(sealed?.sealedKey.toString()).not.toContain("PRIVATE KEY");
  });

  it("computes dashboard figures for the admin's tenant only", async () => {
    const d = await adminA.get("/api/dashboard?minutes=10");
    expect(d.status).toBe(200);
    expect(d.body).toMatchObject({
      messages: 1,
      recipients: 2,
      actions: { quarantine: 1, accept: 1 },
      spamRate: 0.5,
      virusRate: 0,
    });
    expect(d.body.topSymbols).toEqual([{ name: "BAYES_SPAM", count: 1 }]);
    expect((d.body.perMinute as unknown[]).length).toBeGreaterThanOrEqual(10);
  });

  it("publishes an OpenAPI 3.1 document describing the routes", async () => {
    const doc = (await op().get("/api/openapi.json")).body as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.openapi).toBe("3.1.0");
    for (const p of [
      "/api/auth/login",
      "/api/quarantine/{id}/release",
      "/api/users/{address}/lists/{kind}",
      "/api/me/settings",
      "/api/tools/sieve-check",
      "/api/dashboard",
    ]) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
    expect(doc.paths["/api/quarantine/{id}/release"]!.post).toHaveProperty("requestBody");
    expect((await op().get("/api/nothing-here")).status).toBe(404);
    expect((await fetch(node.base + "/healthz")).status).toBe(200);
    expect((await fetch(node.base + "/%E0%A4%A")).status).toBe(400);
    expect((await fetch(node.base + "/..%2F..%2Fpackage.json")).headers.get("content-type")).not.toContain(
      "json",
    );
  });

  it("redeems a signed digest link only on POST, once; a bad token is 404", async () => {
    await node.runtime.store!.putQuarantine(
      quarantineInput("QL1", "a", ["erin@a.example"], "Subject: link\n\nvia link\n"),
    );
    const keys = new LinkKeys(LINK_SECRET);
    const token = keys.sign("release", "QL1", "erin@a.example", "a", new Date(Date.now() + 3600_000));
    // Opening the link (a GET, as a mail scanner would) serves the console page and changes nothing.
    await (await fetch(`${node.base}/links?t=${encodeURIComponent(token)}`)).text();
    const dir = join(node.dir, "maildir", "a.example", "erin", "new");
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
    const anon = op();
    const r = await anon.post("/api/links/redeem", { t: token });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ kind: "release", status: "released", recipient: "erin@a.example" });
    expect(readdirSync(dir).length).toBe(1);
    expect((await anon.post("/api/links/redeem", { t: token })).body.status).toBe("used");
    expect(readdirSync(dir).length).toBe(1);
    const forged = token.slice(0, -2) + (token.endsWith("AA") ? "BB" : "AA");
    expect((await anon.post("/api/links/redeem", { t: forged })).status).toBe(404);
    const view = keys.sign("view", "QL1", "erin@a.example", "a", new Date(Date.now() + 3600_000));
    const v = await anon.post("/api/links/redeem", { t: view });
    expect((v.body.preview as { text: string }).text).toContain("via link");
  });

  it("operators manage console accounts and see cluster nodes; learning as spam is recorded", async () => {
    const made = await opc.post("/api/accounts", {
      login: "admin-c",
      role: "tenant_admin",
      tenant: "b",
      password: "password-c-123",
    });
    expect(made.status).toBe(200);
    expect(made.body).toEqual({ login: "admin-c", role: "tenant_admin", tenant: "b" });
    expect(
      (
        await opc.post("/api/accounts", {
          login: "admin-d",
          role: "tenant_admin",
          tenant: "nope",
          password: "password-d-123",
        })
      ).status,
    ).toBe(400);
    const c = op();
    expect((await c.login("admin-c", "password-c-123")).body.tenant).toBe("b");
    expect(
      (await c.post("/api/accounts", { login: "x", role: "operator", password: "password-x-123" })).status,
    ).toBe(403);
    expect(
      ((await opc.get("/api/accounts")).body.accounts as { login: string }[]).map((a) => a.login),
    ).toContain("admin-c");
    const nodes = await opc.get("/api/nodes");
    expect(nodes.status).toBe(200);
    expect(Array.isArray(nodes.body.nodes)).toBe(true);
    expect((await c.get("/api/nodes")).status).toBe(403);
    expect((await c.post("/api/quarantine/QB1/report-spam", {})).status).toBe(200);
    expect((await adminA.post("/api/quarantine/QB1/report-spam", {})).status).toBe(404);
    const audit = (await opc.get("/api/audit?tenant=b")).body.entries as { action: string; actor: string }[];
    expect(audit.find((e) => e.action === "quarantine.learn-spam")?.actor).toBe("tenant_admin:admin-c");
    expect((await c.get("/api/log/LB1")).body.id).toBe("LB1");
  });

  it("operators publish configuration revisions (validated first, issues listed), tenant admins cannot", async () => {
    const bad = await opc.post("/api/config/revisions", {
      role: "default",
      text: "tenants:\n  - id: a\n    domains: ['bad domain']\n",
    });
    expect(bad.status).toBe(422);
    expect((bad.body.issues as string[]).join("\n")).toContain("not a domain name");
    expect((await opc.get("/api/config/revisions")).body.revisions).toEqual([]);
    const text =
      "tenants:\n  - id: a\n    domains: [a.example, a2.example]\n  - id: b\n    domains: [b.example]\n";
    const ok = await opc.post("/api/config/revisions", { role: "default", text, note: "add a2.example" });
    expect(ok.status).toBe(200);
    const rev = ok.body.rev as number;
    expect((await opc.get(`/api/config/revisions/${rev}`)).body.text).toBe(text);
    expect((await adminA.post("/api/config/revisions", { role: "default", text })).status).toBe(403);
    expect((await adminA.get("/api/config/revisions")).status).toBe(403);
    const audit = (await opc.get("/api/audit")).body.entries as { action: string; after: { rev?: number } }[];
    expect(audit.find((e) => e.action === "config.publish")?.after.rev).toBe(rev);
    const back = await opc.post("/api/config/rollback", { rev });
    expect(back.body.rev).toBeGreaterThan(rev);
  });

  it("hold queue: the tenant admin sends a held message now (delivered) and may not approve without being an approver", async () => {
    const store = node.runtime.store!;
    const env = quarantineInput("H", "a", ["erin@a.example"], "x").envelope;
    const held = async (id: string, approver: string | null) => {
      await store.putHold({
        id,
        tenant: "a",
        envelope: env,
        reason: "send later",
        releaseAt: new Date(Date.now() + 3600_000),
        message: Buffer.from(`Subject: ${id}\r\n\r\nheld ${id}\r\n`),
      });
      if (approver) await store.updateHold(id, { approver });
    };
    await held("HA1", null);
    await held("HA2", "boss@a.example");
    const list = (await adminA.get("/api/hold?state=held")).body.items as {
      id: string;
      recipients: string[];
    }[];
    expect(list.map((h) => h.id).sort()).toEqual(["HA1", "HA2"]);
    expect(list[0]!.recipients).toEqual(["erin@a.example"]);
    const dir = join(node.dir, "maildir", "a.example", "erin", "new");
    const before = existsSync(dir) ? readdirSync(dir).length : 0;
    const sent = await adminA.post("/api/hold/HA1/release", {});
    expect(sent.status).toBe(200);
    expect(sent.body.state).toBe("released");
    expect(readdirSync(dir).length).toBe(before + 1);
    const early = await adminA.post("/api/hold/HA2/release", {});
    expect(early.status).toBe(409);
    expect(String(early.body.detail)).toContain("waits for approval");
    expect((await adminA.post("/api/hold/HA2/approve", {})).status).toBe(409);
    expect((await store.getHold("HA2"))?.state).toBe("held");
    const audit = (await adminA.get("/api/audit")).body.entries as {
      action: string;
      before: unknown;
      after: unknown;
    }[];
    expect(audit.find((e) => e.action === "hold.release")).toMatchObject({
      before: { state: "held" },
      after: { state: "released" },
    });
  });
});
