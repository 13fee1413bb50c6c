// The console API's authorisation matrix (issue 16): every route of /api/openapi.json is called
// as anonymous, an end user, the other tenant's end user, a tenant admin, the other tenant's
// admin and an operator, against fixtures in two tenants (a message to both, an outbound hold),
// and each answer is compared with the declared expectation. A route without an expectation
// fails the suite, and no answer to a tenant's caller may mention the other tenant. Runs on
// SQLite and on PostgreSQL.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import pino from "pino";
import type { FastifyInstance } from "fastify";
import { Runtime } from "../../src/runtime.ts";
import { startWeb } from "../../src/web/server.ts";
import { startSmtpListeners, type SmtpListeners } from "../../src/smtp/listener.ts";
import { loadTls } from "../../src/smtp/tls.ts";
import { createAccount } from "../../src/web/auth/accounts.ts";
import { hashPassword } from "../../src/policy/password.ts";
import { ApiClient } from "../helpers/web.ts";
import { SmtpClient } from "../helpers/smtp-dialog.ts";
import { postgresMissing, startPostgres, type Postgres } from "../helpers/postgres.ts";

type Who = "anon" | "user" | "otherUser" | "admin" | "otherAdmin" | "operator";
/** Denied roles first: an allowed call may change state (release, delete) for those after it. */
const ROLES: Who[] = ["anon", "otherUser", "otherAdmin", "user", "admin", "operator"];
/**
 * "ok": 2xx, or 409 when an earlier allowed caller already did it (released, deleted, exists).
 * A list: any of these statuses.
 */
type Expect = "ok" | number | number[];

interface Case {
  /** Expected answer per role; roles not listed get `rest`. */
  expect: Partial<Record<Who, Expect>>;
  rest: Expect;
  body?: (f: Fixtures, who: Who) => unknown;
  path?: (f: Fixtures, who: Who) => string;
}

interface Fixtures {
  /** acme's copy of the two-tenant message (alice's), and globex's (gina's). */
  acmeQ: string;
  globexQ: string;
  ref: string;
  /** alice's outbound message: held, and logged for acme only. */
  holdRef: string;
  acmeHold: string;
}

const anyLoggedIn: Case = { expect: { anon: 401 }, rest: "ok" };
const adminsOnly: Case = { expect: { anon: 401, user: 403, otherUser: 403 }, rest: "ok" };
const usersOnly: Case = { expect: { anon: 401, user: "ok", otherUser: "ok" }, rest: 403 };
const operatorOnly: Case = { expect: { anon: 401, operator: "ok" }, rest: 403 };
/** An acme object: acme's admin and the operator (and its user if `userToo`); globex gets 404. */
const acmeObject = (userToo: boolean): Case => ({
  expect: {
    anon: 401,
    user: userToo ? "ok" : 403,
    otherUser: userToo ? 404 : 403,
    otherAdmin: 404,
    admin: "ok",
    operator: "ok",
  },
  rest: 404,
});
const tenantRoute = (path: string, body?: Case["body"]): Case => ({
  ...acmeObject(false),
  path: () => path,
  ...(body ? { body } : {}),
});
const CLUSTER_TEXT = "tenants:\n  - id: acme\n    domains: [acme.test]\n";

const MATRIX: Record<string, Case> = {
  "GET /api/openapi.json": { expect: {}, rest: "ok" },
  "POST /api/auth/login": {
    expect: {},
    rest: [401, 429],
    body: () => ({ login: "nobody", password: "wrong-password-1" }),
  },
  "POST /api/auth/logout": anyLoggedIn,
  "POST /api/auth/logout-everywhere": anyLoggedIn,
  "GET /api/auth/me": anyLoggedIn,
  "POST /api/links/redeem": { expect: {}, rest: 404, body: () => ({ t: "not-a-valid-link-token" }) },

  "GET /api/quarantine": anyLoggedIn,
  "GET /api/quarantine/{id}": { ...acmeObject(true), path: (f) => `/api/quarantine/${f.acmeQ}` },
  "GET /api/quarantine/{id}/preview": {
    ...acmeObject(true),
    path: (f) => `/api/quarantine/${f.acmeQ}/preview`,
  },
  "POST /api/quarantine/{id}/report-spam": {
    ...acmeObject(true),
    path: (f) => `/api/quarantine/${f.acmeQ}/report-spam`,
  },
  "POST /api/quarantine/{id}/release": {
    ...acmeObject(true),
    path: (f) => `/api/quarantine/${f.acmeQ}/release`,
    body: () => ({}),
  },
  "POST /api/quarantine/{id}/delete": {
    ...acmeObject(true),
    path: (f) => `/api/quarantine/${f.acmeQ}/delete`,
    body: () => ({}),
  },

  // Each id is looked up in the caller's scope: another tenant's comes back "not found" in the results.
  "POST /api/quarantine/bulk": {
    ...anyLoggedIn,
    body: (f) => ({ ids: [f.acmeQ], action: "report-spam" }),
  },
  "GET /api/log": anyLoggedIn,
  // alice sent it: a sender who is not a recipient sees no log line (end users see their own mail).
  "GET /api/log/{id}": {
    ...acmeObject(false),
    expect: { ...acmeObject(false).expect, user: 404, otherUser: 404 },
    path: (f) => `/api/log/${f.holdRef}`,
  },
  "GET /api/hold": adminsOnly,
  "POST /api/hold/{id}/approve": { ...acmeObject(false), path: (f) => `/api/hold/${f.acmeHold}/approve` },
  "POST /api/hold/{id}/cancel": { ...acmeObject(false), path: (f) => `/api/hold/${f.acmeHold}/cancel` },
  "POST /api/hold/{id}/release": { ...acmeObject(false), path: (f) => `/api/hold/${f.acmeHold}/release` },

  "GET /api/users": adminsOnly,
  "POST /api/users": {
    ...acmeObject(false),
    path: () => "/api/users",
    body: (_f, who) => ({ address: `u-${who}@acme.test`, password: "new-user-pass-1" }),
  },
  "GET /api/users/{address}": { ...acmeObject(false), path: () => "/api/users/alice@acme.test" },
  "PUT /api/users/{address}": {
    ...acmeObject(false),
    path: () => "/api/users/alice@acme.test",
    body: () => ({ language: "en" }),
  },
  "PUT /api/users/{address}/lists/{kind}": {
    ...acmeObject(false),
    path: () => "/api/users/alice@acme.test/lists/whitelist",
    body: () => ({ entries: ["friend.example"] }),
  },
  "DELETE /api/users/{address}": { ...acmeObject(false), path: (_f, who) => `/api/users/u-${who}@acme.test` },
  "DELETE /api/users/{address}/override": {
    ...acmeObject(false),
    path: () => "/api/users/alice@acme.test/override",
  },
  "GET /api/me/settings": usersOnly,
  "PUT /api/me/settings": { ...usersOnly, body: () => ({ language: "ja" }) },
  "PUT /api/me/lists/{kind}": {
    ...usersOnly,
    path: () => "/api/me/lists/blacklist",
    body: () => ({ entries: ["spammer.example"] }),
  },

  "GET /api/tenants": adminsOnly,
  "GET /api/tenants/{tenant}/templates": tenantRoute("/api/tenants/acme/templates"),
  "POST /api/tenants/{tenant}/templates/preview": tenantRoute("/api/tenants/acme/templates/preview", () => ({
    subject: "hi {recipient}",
    body: "body",
  })),
  "GET /api/tenants/{tenant}/dkim-keys": tenantRoute("/api/tenants/acme/dkim-keys"),
  "POST /api/tenants/{tenant}/dkim-keygen": tenantRoute("/api/tenants/acme/dkim-keygen", (_f, who) => ({
    domain: "acme.test",
    selector: `s-${who}`,
    type: "ed25519",
  })),
  "PUT /api/tenants/{tenant}/filters": tenantRoute("/api/tenants/acme/filters", () => ({
    filters: [{ name: "spam-classifier", priority: 65, enabled: false }],
  })),
  "GET /api/dashboard": adminsOnly,
  "GET /api/audit": adminsOnly,
  "POST /api/tools/sieve-check": { ...adminsOnly, body: () => ({ script: 'require ["fileinto"]; keep;' }) },

  "GET /api/accounts": operatorOnly,
  "POST /api/accounts": {
    ...operatorOnly,
    body: () => ({ login: "made-by-test", role: "tenant_admin", tenant: "acme", password: "made-pass-123" }),
  },
  "POST /api/accounts/{login}/disable": { ...operatorOnly, path: () => "/api/accounts/victim/disable" },
  "POST /api/accounts/{login}/enable": { ...operatorOnly, path: () => "/api/accounts/victim/enable" },
  "POST /api/accounts/{login}/logout": { ...operatorOnly, path: () => "/api/accounts/victim/logout" },
  "DELETE /api/accounts/{login}": { ...operatorOnly, path: () => "/api/accounts/victim" },

  // Users report their own mail (the recipient is always themselves); admins name a recipient.
  "POST /api/spam/report": {
    expect: { anon: 401, otherAdmin: 404 },
    rest: "ok",
    body: () => ({
      label: "ham",
      message: Buffer.from("Subject: lunch\r\n\r\nsee you at noon\r\n").toString("base64"),
      recipient: "alice@acme.test",
    }),
  },
  "GET /api/spam/status": operatorOnly,
  "POST /api/spam/compact": { ...operatorOnly, body: () => ({}) },
  // No model revision exists in these fixtures: the operator passes authorisation and gets 404.
  "POST /api/spam/models/{rev}/rollback": {
    ...operatorOnly,
    expect: { anon: 401, operator: 404 },
    path: () => "/api/spam/models/1/rollback",
  },
  "GET /api/nodes": operatorOnly,
  "POST /api/directory/flush": { ...operatorOnly, body: () => ({}) },
  "GET /api/config/revisions": operatorOnly,
  "POST /api/config/revisions": { ...operatorOnly, body: () => ({ role: "spare", text: CLUSTER_TEXT }) },
  "GET /api/config/revisions/{rev}": { ...operatorOnly, path: () => "/api/config/revisions/1" },
  "POST /api/config/rollback": { ...operatorOnly, body: () => ({ rev: 1 }) },
  "GET /api/config/shadows": operatorOnly,
  "POST /api/config/shadows": { ...operatorOnly, body: () => ({ role: "spare", text: CLUSTER_TEXT }) },
  "GET /api/config/shadows/{id}": { ...operatorOnly, path: () => "/api/config/shadows/1" },
  "POST /api/config/shadows/{id}/discard": { ...operatorOnly, path: () => "/api/config/shadows/2/discard" },
  "POST /api/config/shadows/{id}/publish": { ...operatorOnly, path: () => "/api/config/shadows/1/publish" },
};

const dir = mkdtempSync(join(tmpdir(), "sluice-authz-"));
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

const config = (store: string, hashes: Record<string, string>) => `
node: { name: authz, link_secret: "authz-matrix-secret-0123456789abcdef" }
store: ${store}
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
    users:
      - { address: alice@acme.test, password_hash: "${hashes.alice}" }
  - id: globex
    domains: [globex.test]
    users:
      - { address: gina@globex.test, password_hash: "${hashes.gina}" }
`;

const CREDENTIALS: Record<Exclude<Who, "anon">, [string, string]> = {
  user: ["alice@acme.test", "alice-pass-123"],
  otherUser: ["gina@globex.test", "gina-pass-123"],
  admin: ["admin-acme", "admin-acme-pass-1"],
  otherAdmin: ["admin-globex", "admin-globex-pass-1"],
  operator: ["root", "root-operator-pass-1"],
};
/** What a caller of one tenant must never see of the other. */
const FOREIGN: Partial<Record<Who, RegExp>> = {
  user: /globex/i,
  admin: /globex/i,
  otherUser: /acme/i,
  otherAdmin: /acme/i,
};

const pgMissing = postgresMissing();
const stores: [string, boolean][] = [
  ["SQLite", true],
  ["PostgreSQL", !pgMissing],
];

describe.each(stores)("authorisation matrix on %s", (name, available) => {
  let pg: Postgres | null = null;
  let rt: Runtime;
  let web: FastifyInstance;
  let smtp: SmtpListeners;
  let base: string;
  const clients = new Map<Who, ApiClient>();
  const fx = {} as Fixtures;

  const login = async (who: Who) => {
    const c = new ApiClient(base);
    if (who !== "anon") {
      const [l, p] = CREDENTIALS[who];
      const r = await c.login(l, p);
      expect(r.status, `${who} login`).toBe(200);
    }
    clients.set(who, c);
  };

  beforeAll(async () => {
    if (!available) return;
    let store = `sqlite:${dir}/${name}.db`;
    if (name === "PostgreSQL") {
      pg = await startPostgres();
      store = await pg.database();
    }
    const hashes = {
      alice: await hashPassword(CREDENTIALS.user[1]),
      gina: await hashPassword(CREDENTIALS.otherUser[1]),
    };
    rt = await Runtime.create({
      configText: config(store, hashes),
      logger: pino({ level: process.env.SLUICE_TEST_LOG ?? "silent" }),
    });
    web = await startWeb(rt, "127.0.0.1:0");
    base = `http://127.0.0.1:${(web.server.address() as { port: number }).port}`;
    smtp = await startSmtpListeners(rt, await loadTls(undefined, join(dir, "tls"), "mx.test"), rt.log);
    for (const [who, tenant, role] of [
      ["admin", "acme", "tenant_admin"],
      ["otherAdmin", "globex", "tenant_admin"],
      ["operator", null, "operator"],
    ] as const) {
      const [l, password] = CREDENTIALS[who];
      await createAccount(rt.store!, rt.config, { login: l, role, tenant, password });
    }

    // A message to both tenants (quarantined for both) and an outbound hold by alice.
    const port = (k: "inbound" | "submission") => Number(smtp.addresses[k]!.split(":").pop());
    const c = await SmtpClient.open(port("inbound"));
    await c.cmd("EHLO client.remote.test");
    const r = await c.send(
      "promo@remote.test",
      ["alice@acme.test", "gina@globex.test"],
      "From: promo@remote.test\nTo: undisclosed-recipients:;\nSubject: QUARANTINE-ME pills\n\nbuy\n",
    );
    await c.quit();
    expect(r.code, r.text).toBe(250);
    fx.ref = /queued as (\S+)/.exec(r.text)![1]!;
    const items = await rt.store!.listQuarantine({});
    fx.acmeQ = items.find((i) => i.tenant === "acme")!.id;
    fx.globexQ = items.find((i) => i.tenant === "globex")!.id;
    const s = await SmtpClient.open(port("submission"));
    await s.cmd("EHLO laptop");
    await s.cmd(`AUTH PLAIN ${Buffer.from(`\0${CREDENTIALS.user.join("\0")}`).toString("base64")}`);
    const h = await s.send("alice@acme.test", ["bob@remote.test"], "Subject: numbers\n\nhello\n");
    await s.quit();
    fx.holdRef = /queued as (\S+)/.exec(h.text)![1]!;
    fx.acmeHold = `${fx.holdRef}-H1`;
    for (let i = 0; i < 2; i++)
      await rt.store!.startShadow({
        role: "spare",
        text: CLUSTER_TEXT,
        author: "fixture",
        note: null,
        nodes: [],
      });
    await createAccount(rt.store!, rt.config, {
      login: "victim",
      role: "tenant_admin",
      tenant: "acme",
      password: "victim-pass-123",
    });
    expect((await rt.store!.getHold(fx.acmeHold))?.tenant).toBe("acme");
    for (const who of ROLES) await login(who);
    // Logins run scrypt at N=2^17 (~0.5 s each on a loaded 2-core machine).
  }, 180_000);
  afterAll(async () => {
    await smtp?.close();
    await web?.close();
    await rt?.close();
    await pg?.destroy();
  });

  it.skipIf(!available)("every route has an expectation, and every expectation a route", async () => {
    const doc = (await clients.get("anon")!.get("/api/openapi.json")).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const routes = Object.entries(doc.paths).flatMap(([p, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect(
      routes.filter((r) => !(r in MATRIX)),
      "routes without an expectation",
    ).toEqual([]);
    expect(
      Object.keys(MATRIX).filter((r) => !routes.includes(r)),
      "expectations without a route",
    ).toEqual([]);
  });

  it.skipIf(!available)(
    "each role gets exactly the declared answer, and nothing of the other tenant",
    async () => {
      const seen: string[] = [];
      for (const [route, c] of Object.entries(MATRIX)) {
        const [method, template] = route.split(" ") as [string, string];
        for (const who of ROLES) {
          const path = c.path ? c.path(fx, who) : template;
          const want = c.expect[who] ?? c.rest;
          const client = clients.get(who)!;
          const body = c.body ? c.body(fx, who) : method === "GET" || method === "DELETE" ? undefined : {};
          const res = await client.call(method, path, body);
          const got = res.status;
          const ok =
            want === "ok"
              ? got < 300 || got === 409
              : Array.isArray(want)
                ? want.includes(got)
                : got === want;
          if (!ok)
            seen.push(
              `${route} as ${who}: want ${want}, got ${got} ${JSON.stringify(res.body).slice(0, 160)}`,
            );
          const foreign = FOREIGN[who];
          if (got < 300 && foreign && foreign.test(JSON.stringify(res.body)))
            seen.push(`${route} as ${who}: answer mentions the other tenant`);
          // A call that ended a session (logout, an account change) must not break the next route.
          if (who !== "anon" && (await client.get("/api/auth/me")).status !== 200) await login(who);
        }
      }
      expect(seen).toEqual([]);
    },
    300_000,
  );
});
