// Every reply that carries a reference id leads somewhere (issue 23, item 4): a blacklist reject
// at RCPT, a directory outage at RCPT and a message refused at DATA by the front end each get a
// message-log entry (found by GET /api/log/{ref}, per tenant), a log line and a counter.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import type { FastifyInstance } from "fastify";
import { startProxy, type Proxy } from "../helpers/proxy.ts";
import { SmtpClient } from "../helpers/smtp-dialog.ts";
import { ApiClient } from "../helpers/web.ts";
import { startWeb } from "../../src/web/server.ts";
import { createAccount } from "../../src/web/auth/accounts.ts";

const config = (dir: string) => `
node: { name: refs }
store: sqlite:${dir}/s.db
delivery: maildir:${dir}/maildir
limits: { message_bytes: 2000 }
policy:
  filters:
    auth: { enabled: false }
    spam-classifier: { enabled: false }
tenants:
  - id: acme
    domains: [acme.test]
    users:
      - { address: alice@acme.test, blacklist: [spammer.example] }
      - { address: ann@acme.test }
  - id: globex
    domains: [globex.test]
    users:
      - { address: gina@globex.test, blacklist: [spammer.example] }
  - id: down
    domains: [down.test]
    delivery: smtp://127.0.0.1:1
    users:
      - { address: dora@down.test }
`;

const refOf = (text: string) => /\[ref ([0-9A-Z]+)\]/.exec(text)?.[1] ?? "";

describe("reference ids", { timeout: 30_000 }, () => {
  let proxy: Proxy;
  let web: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    proxy = await startProxy(config);
    web = await startWeb(proxy.runtime, "127.0.0.1:0");
    base = `http://127.0.0.1:${(web.server.address() as { port: number }).port}`;
    const store = proxy.runtime.store!;
    await createAccount(store, proxy.runtime.config, {
      login: "op",
      role: "operator",
      password: "op-pass-1234",
    });
    await createAccount(store, proxy.runtime.config, {
      login: "acme-admin",
      role: "tenant_admin",
      tenant: "acme",
      password: "acme-pass-1234",
    });
    await createAccount(store, proxy.runtime.config, {
      login: "globex-admin",
      role: "tenant_admin",
      tenant: "globex",
      password: "globex-pass-1234",
    });
  });
  afterAll(async () => {
    await web?.close();
    await proxy?.close();
  });

  const login = async (user: string, password: string) => {
    const c = new ApiClient(base);
    expect((await c.call("POST", "/api/auth/login", { login: user, password })).status).toBe(200);
    const me = await c.call("GET", "/api/auth/me");
    c.csrf = String(me.body.csrf);
    return c;
  };
  const metric = async (stage: string, cls = "5xx") => {
    const text = await proxy.runtime.metrics.registry.metrics();
    const m = new RegExp(`^sluice_refusals_total\\{stage="${stage}",class="${cls}"\\} (\\d+)$`, "m").exec(
      text,
    );
    return Number(m?.[1] ?? 0);
  };

  it("a blacklist reject at RCPT has a message-log entry per tenant, found by its reference id", async () => {
    const before = await metric("rcpt");
    const c = await SmtpClient.open(proxy.port("inbound"));
    await c.cmd("EHLO client.remote.example");
    expect((await c.cmd("MAIL FROM:<bad@spammer.example>")).code).toBe(250);
    const r1 = await c.cmd("RCPT TO:<alice@acme.test>");
    const r2 = await c.cmd("RCPT TO:<gina@globex.test>");
    await c.quit();
    expect(r1.code).toBe(550);
    expect(r2.code).toBe(550);
    const ref = refOf(r1.text);
    expect(ref).not.toBe("");
    expect(refOf(r2.text)).toBe(ref);
    expect(await metric("rcpt")).toBe(before + 2);

    const op = await login("op", "op-pass-1234");
    const entry = await op.call("GET", `/api/log/${ref}`);
    expect(entry.status).toBe(200);
    expect(entry.body.tenant).toBe("acme");
    const rcpt = (
      entry.body.recipients as { address: string; action: string; reply: string; stage: string }[]
    )[0]!;
    expect(rcpt).toMatchObject({ address: "alice@acme.test", action: "reject", stage: "rcpt" });
    expect(rcpt.reply).toContain(`[ref ${ref}]`);
    expect(JSON.stringify(entry.body)).toContain("USER_BLACKLIST");
    // The other tenant's copy of the same reference, each admin sees only its own.
    const acme = await login("acme-admin", "acme-pass-1234");
    const globex = await login("globex-admin", "globex-pass-1234");
    const a = await acme.call("GET", `/api/log/${ref}`);
    const g = await globex.call("GET", `/api/log/${ref}`);
    expect(a.body.tenant).toBe("acme");
    expect(g.body.tenant).toBe("globex");
    expect(JSON.stringify(a.body)).not.toContain("globex");
    expect(JSON.stringify(g.body)).not.toContain("acme");
    const found = await op.call("GET", `/api/log?ref=${ref}`);
    expect((found.body.entries as { id: string }[]).map((e) => e.id).sort()).toEqual([ref, `${ref}-T2`]);
  });

  it("a message refused at DATA by the front end (too big) is logged with its recipients", async () => {
    const before = await metric("data");
    const c = await SmtpClient.open(proxy.port("inbound"));
    await c.cmd("EHLO client.remote.example");
    const r = await c.send(
      "someone@remote.example",
      ["ann@acme.test"],
      `Subject: big one\r\n\r\n${"x".repeat(5000)}\r\n`,
    );
    await c.quit();
    expect(r.code).toBe(552);
    const ref = refOf(r.text);
    await new Promise((res) => setTimeout(res, 100));
    const e = await proxy.runtime.store!.getLog(ref);
    expect(e?.recipients[0]).toMatchObject({ address: "ann@acme.test", action: "reject", stage: "data" });
    expect(await metric("data")).toBe(before + 1);
  });

  it("a message refused at commit (next hop down) shows the reply the client got in its entry", async () => {
    const before = await metric("commit", "4xx");
    const c = await SmtpClient.open(proxy.port("inbound"));
    await c.cmd("EHLO client.remote.example");
    const r = await c.send("someone@remote.example", ["dora@down.test"], "Subject: nowhere\r\n\r\nhi\r\n");
    await c.quit();
    expect(r.code).toBe(451);
    const ref = refOf(r.text);
    await new Promise((res) => setTimeout(res, 200));
    const e = await proxy.runtime.store!.getLog(ref);
    expect(e?.recipients[0]).toMatchObject({ address: "dora@down.test", stage: "commit" });
    expect(e?.recipients[0]?.reply).toContain(`[ref ${ref}]`);
    expect(await metric("commit", "4xx")).toBe(before + 1);
  });

  it("a message whose recipients were all accepted keeps one entry, with refused recipients in it", async () => {
    const c = await SmtpClient.open(proxy.port("inbound"));
    await c.cmd("EHLO client.remote.example");
    await c.cmd("MAIL FROM:<bad@spammer.example>");
    const refused = await c.cmd("RCPT TO:<alice@acme.test>");
    expect((await c.cmd("RCPT TO:<ann@acme.test>")).code).toBe(250);
    expect((await c.cmd("DATA")).code).toBe(354);
    const r = await c.cmd("Subject: mixed\r\n\r\nhello\r\n.");
    await c.quit();
    expect(r.code).toBe(250);
    const e = await proxy.runtime.store!.getLog(refOf(refused.text));
    expect(e?.recipients.map((x) => [x.address, x.action])).toEqual([
      ["alice@acme.test", "reject"],
      ["ann@acme.test", "accept"],
    ]);
  });
});
