// One message to two tenants through the real proxy and console (issue 16, finding 1), and an
// outbound hold (finding 6): every stored row belongs to exactly one tenant, holds only that
// tenant's recipients, and each tenant's admin sees, previews, releases and deletes only its
// own copy. Two tenants, acme.test and globex.test, on one node with SQLite.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync, readdirSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import pino from "pino";
import { Runtime } from "../../src/runtime.ts";
import { startWeb } from "../../src/web/server.ts";
import { startSmtpListeners, type SmtpListeners } from "../../src/smtp/listener.ts";
import { loadTls } from "../../src/smtp/tls.ts";
import { createAccount } from "../../src/web/auth/accounts.ts";
import { hashPassword } from "../../src/policy/password.ts";
import { runDigests } from "../../src/quarantine/digest.ts";
import { routesFor } from "../../src/quarantine/release.ts";
import type { FastifyInstance } from "fastify";
import { ApiClient } from "../helpers/web.ts";
import { SmtpClient } from "../helpers/smtp-dialog.ts";

const dir = mkdtempSync(join(tmpdir(), "sluice-tenants-"));
writeFileSync(
  join(dir, "inbound.sieve"),
  `require ["vnd.sluice.quarantine"];
if header :contains "subject" "QUARANTINE-ME" { quarantine :reason "test policy"; }
`,
);
writeFileSync(
  join(dir, "outbound.sieve"),
  `require ["vnd.sluice.hold", "envelope"];
if envelope :domain :is "to" "remote.test" { hold :minutes 30 :reason "external"; }
`,
);

const config = (aliceHash: string) => `
node: { name: iso, link_secret: "tenant-isolation-secret-0123456789" }
store: sqlite:${dir}/s.db
delivery: maildir:${dir}/maildir
smtp:
  hostname: mx.test
  listeners:
    inbound: { listen: "127.0.0.1:0" }
    submission: { listen: "127.0.0.1:0", allow_insecure_auth: true }
    submissions: { listen: "127.0.0.1:0" }
policy:
  filters:
    spam-classifier: { enabled: false }
    sieve: { options: { inbound: [${dir}/inbound.sieve], outbound: [${dir}/outbound.sieve] } }
tenants:
  - id: acme
    domains: [acme.test]
    quarantine:
      digest: { enabled: true, interval_minutes: 60, link_base: "https://c.test/l" }
    users:
      - { address: alice@acme.test, password_hash: "${aliceHash}" }
  - id: globex
    domains: [globex.test]
    quarantine:
      digest: { enabled: true, interval_minutes: 60, link_base: "https://c.test/l" }
    users:
      - { address: gina@globex.test }
`;

const SPAM = `From: Promo <promo@remote.test>
To: alice@acme.test, gina@globex.test
Subject: QUARANTINE-ME cheap pills

buy now
`;

describe("tenant isolation for a message to two tenants", () => {
  let rt: Runtime;
  let web: FastifyInstance;
  let smtp: SmtpListeners;
  let base: string;
  let ref: string;
  const acme = () => new ApiClient(base);
  let adminAcme: ApiClient;
  let adminGlobex: ApiClient;

  beforeAll(async () => {
    rt = await Runtime.create({
      configText: config(await hashPassword("alice-pass-1")),
      logger: pino({ level: "silent" }),
    });
    web = await startWeb(rt, "127.0.0.1:0");
    base = `http://127.0.0.1:${(web.server.address() as { port: number }).port}`;
    smtp = await startSmtpListeners(rt, await loadTls(undefined, join(dir, "tls"), "mx.test"), rt.log);
    for (const [login, tenant] of [
      ["admin-acme", "acme"],
      ["admin-globex", "globex"],
    ] as const) {
      await createAccount(rt.store!, rt.config, {
        login,
        role: "tenant_admin",
        tenant,
        password: `${login}-pw-1`,
      });
    }
    adminAcme = acme();
    adminGlobex = acme();
    expect((await adminAcme.login("admin-acme", "admin-acme-pw-1")).status).toBe(200);
    expect((await adminGlobex.login("admin-globex", "admin-globex-pw-1")).status).toBe(200);

    const c = await SmtpClient.open(Number(smtp.addresses.inbound!.split(":").pop()));
    await c.cmd("EHLO client.remote.test");
    const r = await c.send("promo@remote.test", ["alice@acme.test", "gina@globex.test"], SPAM);
    await c.quit();
    expect(r.code).toBe(250);
    ref = /queued as (\S+)/.exec(r.text)![1]!;
  });
  afterAll(async () => {
    await smtp?.close();
    await web?.close();
    await rt?.close();
  });

  it("stores one quarantine copy per tenant, each with only its own recipients", async () => {
    const items = await rt.store!.listQuarantine({});
    const byTenant: Record<string, (typeof items)[number]> = Object.fromEntries(
      items.map((i) => [i.tenant ?? "", i]),
    );
    expect(Object.keys(byTenant).sort()).toEqual(["acme", "globex"]);
    expect(byTenant.acme!.recipients.map((r) => r.address)).toEqual(["alice@acme.test"]);
    expect(byTenant.acme!.envelope.recipients.map((r) => r.address)).toEqual(["alice@acme.test"]);
    expect(byTenant.globex!.recipients.map((r) => r.address)).toEqual(["gina@globex.test"]);
    expect(byTenant.globex!.envelope.recipients.map((r) => r.address)).toEqual(["gina@globex.test"]);
    // Both are found by the reference id the sender was given.
    expect(items.every((i) => i.id.startsWith(ref))).toBe(true);
  });

  it("each tenant admin sees and acts on its own copy only; the other's is 404", async () => {
    const items = await rt.store!.listQuarantine({});
    const globexId = items.find((i) => i.tenant === "globex")!.id;
    const acmeId = items.find((i) => i.tenant === "acme")!.id;

    const mine = await adminAcme.get("/api/quarantine");
    expect((mine.body.items as { id: string }[]).map((i) => i.id)).toEqual([acmeId]);
    for (const [method, path] of [
      ["GET", `/api/quarantine/${globexId}`],
      ["GET", `/api/quarantine/${globexId}/preview`],
      ["POST", `/api/quarantine/${globexId}/release`],
      ["POST", `/api/quarantine/${globexId}/delete`],
      ["POST", `/api/quarantine/${globexId}/report-spam`],
    ] as const) {
      const res = await adminAcme.call(method, path, method === "POST" ? {} : undefined);
      expect([path, res.status]).toEqual([path, 404]);
    }
    expect((await rt.store!.getQuarantine(globexId))!.recipients[0]!.state).toBe("quarantined");

    // globex's admin previews and releases gina's copy into gina's mailbox.
    const g = await adminGlobex.get(`/api/quarantine/${globexId}`);
    expect(g.status).toBe(200);
    expect((g.body.recipients as { address: string }[]).map((r) => r.address)).toEqual(["gina@globex.test"]);
    expect((await adminGlobex.get(`/api/quarantine/${globexId}/preview`)).status).toBe(200);
    const rel = await adminGlobex.post(`/api/quarantine/${globexId}/release`, {});
    expect(rel.body).toMatchObject({ released: ["gina@globex.test"] });
    const ginaBox = join(dir, "maildir", "globex.test", "gina", "new");
    expect(readdirSync(ginaBox).length).toBe(1);
    const aliceBox = join(dir, "maildir", "acme.test", "alice", "new");
    expect(existsSync(aliceBox) ? readdirSync(aliceBox) : []).toEqual([]);
  });

  it("the message log has one entry per tenant; the reference id finds the caller's own", async () => {
    const a = await adminAcme.get(`/api/log/${ref}`);
    const g = await adminGlobex.get(`/api/log/${ref}`);
    expect(a.status).toBe(200);
    expect(g.status).toBe(200);
    expect([a.body.tenant, (a.body.recipients as { address: string }[]).map((r) => r.address)]).toEqual([
      "acme",
      ["alice@acme.test"],
    ]);
    expect([g.body.tenant, (g.body.recipients as { address: string }[]).map((r) => r.address)]).toEqual([
      "globex",
      ["gina@globex.test"],
    ]);
    const list = await adminAcme.get("/api/log");
    const seen = (list.body.entries as { recipients: { address: string }[] }[]).flatMap((e) =>
      e.recipients.map((r) => r.address),
    );
    expect(seen).not.toContain("gina@globex.test");
  });

  it("each tenant's digest lists its own user's copy", async () => {
    const res = await runDigests(rt, routesFor(rt), { force: true, now: new Date(Date.now() + 1000) });
    const sent = Object.fromEntries(res.map((r) => [r.tenant, r.sent]));
    expect(sent.acme).toEqual(["alice@acme.test"]);
    // gina's copy was released above, so globex has nothing left to list; before the fix the
    // copy was acme's and globex's digest could never list it.
    expect(sent.globex).toEqual([]);
  });

  it("an outbound hold belongs to the authenticated sender's tenant", async () => {
    const c = await SmtpClient.open(Number(smtp.addresses.submission!.split(":").pop()));
    await c.cmd("EHLO alice-laptop");
    const auth = await c.cmd(
      `AUTH PLAIN ${Buffer.from("\0alice@acme.test\0alice-pass-1").toString("base64")}`,
    );
    expect(auth.code).toBe(235);
    const r = await c.send("alice@acme.test", ["bob@remote.test"], "Subject: numbers\n\nhello\n");
    await c.quit();
    expect(r.code).toBe(250);
    const id = `${/queued as (\S+)/.exec(r.text)![1]}-H1`;
    expect((await rt.store!.getHold(id))?.tenant).toBe("acme");
    const a = await adminAcme.get("/api/hold");
    expect((a.body.items as { id: string }[]).map((h) => h.id)).toContain(id);
    const g = await adminGlobex.get("/api/hold");
    expect((g.body.items as { id: string }[]).map((h) => h.id)).not.toContain(id);
  });
});
