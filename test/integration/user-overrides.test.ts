// Per-user settings for every user (issue 23, item 2): users of the configuration file and of
// LDAP change their own spam filter, language and white/blacklist in the portal; the change is
// their override in the store, laid over the directory (which is never written), with the list
// cap, the audit log and the policy's locks. With a real slapd: the LDAP entry stays as it was,
// and the pipeline follows the override.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { join } from "node:path";
import pino from "pino";
import type { FastifyInstance } from "fastify";
import { ApiClient, startWebNode, type WebNode } from "../helpers/web.ts";
import { run } from "../helpers/cli.ts";
import { serviceDir } from "../helpers/spam-services.ts";
import { createAccount } from "../../src/web/auth/accounts.ts";
import { hashPassword, verifyPassword } from "../../src/policy/password.ts";
import { Runtime } from "../../src/runtime.ts";
import { startWeb } from "../../src/web/server.ts";
import {
  SERVICE_DN,
  SERVICE_PW,
  SUFFIX,
  slapdMissing,
  startSlapd,
  userLdif,
  type Slapd,
} from "../helpers/slapd.ts";

const HASH = await hashPassword("user-pass-123");

const config = (dir: string) => `
node: { name: overrides }
store: sqlite:${dir}/s.db
delivery: maildir:${dir}/maildir
tenants:
  - id: acme
    domains: [acme.test]
    users:
      - { address: ann@acme.test, spam_filter: true, language: en, blacklist: [old.example], password_hash: "${HASH}" }
  - id: locked
    domains: [locked.test]
    policy:
      self_service: { spam_filter: false, lists: false }
    users:
      - { address: lou@locked.test, spam_filter: true, password_hash: "${HASH}" }
`;

describe("overrides of configuration-file users", () => {
  let node: WebNode;
  let ann: ApiClient;
  let admin: ApiClient;

  beforeAll(async () => {
    node = await startWebNode(config);
    await createAccount(node.runtime.store!, node.runtime.config, {
      login: "acme-admin",
      role: "tenant_admin",
      tenant: "acme",
      password: "acme-pass-1234",
    });
    ann = new ApiClient(node.base);
    expect((await ann.login("ann@acme.test", "user-pass-123")).status).toBe(200);
    admin = new ApiClient(node.base);
    expect((await admin.login("acme-admin", "acme-pass-1234")).status).toBe(200);
  });
  afterAll(async () => node?.close());

  it("a YAML user switches the spam filter OFF: kept as an override, in effect at once, audited", async () => {
    const before = await ann.get("/api/me/settings");
    expect(before.body).toMatchObject({
      source: "config",
      spamFilter: true,
      effectiveSpamFilter: true,
      locked: { spamFilter: false, language: false, lists: false },
    });
    const r = await ann.put("/api/me/settings", { spamFilter: false, language: "ja" });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ spamFilter: false, language: "ja", overridden: { spamFilter: true } });
    const policy = await node.runtime.resolver.forRecipient("ann@acme.test");
    expect(policy.filters["spam-classifier"]).toMatchObject({
      enabled: false,
      offReason: "spam filter OFF for this user",
    });
    expect(policy.language).toBe("ja");
    expect((await ann.get("/api/me/settings")).body).toMatchObject({
      effectiveSpamFilter: false,
      directory: { spamFilter: true, language: "en" },
    });
    const audit = await admin.get("/api/audit");
    const entry = (
      audit.body.entries as { action: string; target: string; before: unknown; after: unknown }[]
    ).find((e) => e.action === "user.override");
    expect(entry).toMatchObject({
      target: "ann@acme.test",
      before: { spamFilter: null, language: null },
      after: { spamFilter: false, language: "ja" },
    });
  });

  it("lists: the 20-entry cap holds, the override replaces the file's list, the admin can reset it", async () => {
    const many = Array.from({ length: 21 }, (_, i) => `w${i}.example`);
    const over = await ann.put("/api/me/lists/whitelist", { entries: many });
    expect(over.status).toBe(422);
    expect(over.body.maxEntries).toBe(20);
    expect((await ann.put("/api/me/lists/whitelist", { entries: many.slice(0, 20) })).status).toBe(200);
    expect((await ann.put("/api/me/lists/blacklist", { entries: ["spam.example"] })).status).toBe(200);
    const p = await node.runtime.resolver.forRecipient("ann@acme.test");
    expect(p.lists.whitelist.length).toBe(20);
    expect(p.lists.blacklist).toEqual(["spam.example"]);
    // Admins see the user with the override marked, and may drop it: the file's values return.
    const list = await admin.get("/api/users");
    const a = (list.body.users as { address: string; overridden: Record<string, boolean> }[]).find(
      (u) => u.address === "ann@acme.test",
    )!;
    expect(a.overridden).toEqual({ spamFilter: true, language: true, whitelist: true, blacklist: true });
    expect((await admin.del("/api/users/ann@acme.test/override")).status).toBe(200);
    const back = await node.runtime.resolver.forRecipient("ann@acme.test");
    expect(back.lists.blacklist).toEqual(["old.example"]);
    expect(back.filters["spam-classifier"]?.enabled).toBe(true);
    // A password of a file user lives in the file: 409 says how to set it.
    const pw = await admin.put("/api/users/ann@acme.test", { password: "a-new-pass-123" });
    expect(pw.status).toBe(409);
    expect(String(pw.body.detail)).toContain("sluice user passwd");
  });

  it("a setting the policy locks has no control and refuses a change", async () => {
    const lou = new ApiClient(node.base);
    expect((await lou.login("lou@locked.test", "user-pass-123")).status).toBe(200);
    const s = await lou.get("/api/me/settings");
    expect(s.body.locked).toEqual({ spamFilter: true, language: false, lists: true });
    const r = await lou.put("/api/me/settings", { spamFilter: false });
    expect(r.status).toBe(409);
    expect(String(r.body.detail)).toContain("self_service");
    expect((await lou.put("/api/me/lists/whitelist", { entries: ["x.example"] })).status).toBe(409);
    expect((await lou.put("/api/me/settings", { language: "ja" })).status).toBe(200);
  });

  it("sluice user passwd prints a hash for tenants[].users[].password_hash", async () => {
    const r = await run(["user", "passwd"], { input: "a-long-password\n" });
    expect(r.code).toBe(0);
    const hash = r.stdout.trim();
    expect(hash).toMatch(/^scrypt\$/);
    expect(await verifyPassword("a-long-password", hash)).toBe(true);
    const short = await run(["user", "passwd"], { input: "short\n" });
    expect(short.code).toBe(2);
  });
});

const missing = slapdMissing();
if (missing) console.warn(`skipping LDAP override tests: ${missing}`);

describe.skipIf(missing !== null)("overrides of LDAP users (slapd)", () => {
  let slapd: Slapd;
  let rt: Runtime;
  let web: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    slapd = await startSlapd();
    await slapd.ldapadd(
      userLdif({
        uid: "carol",
        mail: "carol@example.com",
        password: "carol-ldap-pw",
        extra: { sluiceSpamFilter: "TRUE" },
      }),
    );
    rt = await Runtime.create({
      configText: `
store: "sqlite:${join(serviceDir("ldap-overrides"), "sluice.db")}"
policy:
  thresholds: { tag: 5, quarantine: 10, reject: 30 }
  filters:
    auth: { enabled: false }
directory:
  type: ldap
  url: ${slapd.url}
  bind_dn: "${SERVICE_DN}"
  bind_password: ${SERVICE_PW}
  timeout_ms: 2000
  tenants:
    example: { base_dn: "ou=people,${SUFFIX}" }
  cache: { ttl_s: 60, negative_ttl_s: 60, stale_s: 0 }
tenants:
  - id: example
    domains: [example.com]
`,
      logger: pino({ level: "silent" }),
    });
    web = await startWeb(rt, "127.0.0.1:0");
    base = `http://127.0.0.1:${(web.server.address() as { port: number }).port}`;
  }, 60_000);
  afterAll(async () => {
    await web?.close();
    await rt?.close();
    await slapd?.stop();
  });

  it("an LDAP user's own OFF and blacklist take effect at once; the LDAP entry is not written", async () => {
    const carol = new ApiClient(base);
    expect((await carol.login("carol@example.com", "carol-ldap-pw")).status).toBe(200);
    expect((await carol.get("/api/me/settings")).body).toMatchObject({ source: "ldap", spamFilter: true });
    expect((await carol.put("/api/me/settings", { spamFilter: false })).status).toBe(200);
    expect((await carol.put("/api/me/lists/blacklist", { entries: ["*@spammer.org"] })).status).toBe(200);
    // In effect now, although the directory's answer is cached for a minute.
    const p = await rt.resolver.forRecipient("carol@example.com");
    expect(p.filters["spam-classifier"]?.offReason).toBe("spam filter OFF for this user");
    const s = rt.newSession();
    await s.connect({ ingress: "inbound", address: "192.0.2.1", localName: "mx.test" });
    await s.helo("client.test");
    await s.mail("x@spammer.org", {});
    const r = await s.rcpt("carol@example.com", {});
    expect(r).toMatchObject({ ok: false, reply: { code: 550 } });
    await s.close();
    const ldif = await slapd.ldapsearch(`ou=people,${SUFFIX}`, "(uid=carol)", [
      "sluiceSpamFilter",
      "sluiceBlacklist",
    ]);
    expect(ldif).toContain("sluiceSpamFilter: TRUE");
    expect(ldif).not.toContain("sluiceBlacklist");
    // Back to what LDAP says.
    expect((await carol.put("/api/me/settings", { spamFilter: null })).status).toBe(200);
    expect((await rt.resolver.forRecipient("carol@example.com")).filters["spam-classifier"]?.enabled).toBe(
      true,
    );
  });
});
