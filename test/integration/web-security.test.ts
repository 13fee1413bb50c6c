// Trust boundaries of the web port over real HTTP(S) (issue #16): cluster and directory
// operations need an operator session (loopback is no authority), Host names are checked,
// X-Forwarded-For counts only from trusted proxies, native TLS, sessions end on demotion,
// deletion, password change, disable and "log out everywhere" and after idling, login
// throttling without lockouts, secrets redacted, security headers everywhere, no user oracle.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scrypt, randomBytes } from "node:crypto";
import pino from "pino";
import type { FastifyInstance } from "fastify";
import { ApiClient, startWebNode, type WebNode } from "../helpers/web.ts";
import { run } from "../helpers/cli.ts";
import { createAccount } from "../../src/web/auth/accounts.ts";
import { hashPassword } from "../../src/policy/password.ts";
import { Runtime } from "../../src/runtime.ts";
import { startWeb } from "../../src/web/server.ts";
import { loadTls } from "../../src/smtp/tls.ts";
import { parseConfig } from "../../src/config/load.ts";
import { ConfigError, formatIssue } from "../../src/config/errors.ts";
import { FilterRegistry } from "../../src/pipeline/registry.ts";
import { builtinFilters } from "../../src/filters/index.ts";
import type { StoredUser } from "../../src/store/types.ts";

const config =
  (extra = "") =>
  (dir: string) => `
node: { name: sec-test }
store: sqlite:${dir}/s.db
delivery: maildir:${dir}/maildir
${extra}
tenants:
  - id: a
    domains: [a.example]
  - id: b
    domains: [b.example]
`;

const storeUser = (address: string, tenant: string, passwordHash: string | null): StoredUser => ({
  id: address,
  tenant,
  address,
  aliases: [],
  language: null,
  spamFilter: true,
  thresholds: {},
  whitelist: [],
  blacklist: [],
  sendAs: [],
  passwordHash,
});

/** A raw request, so the Host header can be anything (fetch sets it from the URL). */
function raw(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: u.hostname, port: u.port, method, path, headers, setHost: false },
      (res) => {
        let text = "";
        res.on("data", (d) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const SEC = { "content-type": "application/json" };

async function hash16k(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await new Promise<Buffer>((res, rej) =>
    scrypt(secret, salt, 32, { N: 16384, r: 8, p: 1 }, (e, k) => (e ? rej(e) : res(k))),
  );
  return `scrypt$16384$8$1$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

// Logins cost a real scrypt (N=2^17, ~0.5 s each on a loaded 2-core machine): generous timeouts.
describe("web trust boundaries", { timeout: 120_000 }, () => {
  let node: WebNode;
  let root: ApiClient;
  const client = () => new ApiClient(node.base);

  beforeAll(async () => {
    node = await startWebNode(config());
    const store = node.runtime.store!;
    const cfg = node.runtime.config;
    for (const [login, role, tenant] of [
      ["root", "operator", null],
      ["op2", "operator", null],
      ["op3", "operator", null],
      ["admin-a", "tenant_admin", "a"],
    ] as const) {
      await createAccount(store, cfg, { login, role, tenant, password: `${login}-password-1` });
    }
    await store.putUser(storeUser("carol@a.example", "a", await hashPassword("carol-password-1")));
    await store.putUser(storeUser("dave@a.example", "a", await hashPassword("dave-password-1")));
    root = client();
    expect((await root.login("root", "root-password-1")).status).toBe(200);
  });
  afterAll(async () => node?.close());

  it("publishes, rolls back and flushes only for a logged-in operator, never for a loopback caller; author from the session; audited", async () => {
    const text = "tenants:\n  - id: a\n    domains: [a.example]\n  - id: b\n    domains: [b.example]\n";
    // Before: POST /api/cluster/revisions from 127.0.0.1 published with the body's author.
    for (const [path, body] of [
      ["/api/cluster/revisions", { role: "default", text, author: "mallory" }],
      ["/api/cluster/rollback", { rev: 1 }],
      ["/api/cluster/shadows", { role: "default", text }],
    ] as const) {
      expect(
        (await fetch(node.base + path, { method: "POST", headers: SEC, body: JSON.stringify(body) })).status,
      ).toBe(404);
    }
    expect((await fetch(node.base + "/api/cluster/nodes")).status).toBe(404);
    const anon = client();
    expect((await anon.post("/api/config/revisions", { role: "default", text })).status).toBe(401);
    expect((await anon.post("/api/config/rollback", { rev: 1 })).status).toBe(401);
    expect((await anon.post("/api/config/shadows", { role: "default", text })).status).toBe(401);
    expect((await anon.post("/api/directory/flush", {})).status).toBe(401);
    expect((await anon.get("/api/config/revisions")).status).toBe(401);

    const admin = client();
    expect((await admin.login("admin-a", "admin-a-password-1")).status).toBe(200);
    expect((await admin.post("/api/config/revisions", { role: "default", text })).status).toBe(403);
    expect((await admin.post("/api/directory/flush", {})).status).toBe(403);
    const noCsrf = await root.call(
      "POST",
      "/api/config/revisions",
      { role: "default", text },
      { "x-csrf-token": "x" },
    );
    expect(noCsrf.status).toBe(403);
    expect(await node.runtime.store!.listConfigRevisions({})).toEqual([]);

    const ok = await root.post("/api/config/revisions", { role: "default", text, author: "mallory" });
    expect(ok.status).toBe(200);
    expect(ok.body.author).toBe("console:root");
    const back = await root.post("/api/config/rollback", { rev: ok.body.rev });
    expect(back.body.author).toBe("console:root");
    const shadow = await root.post("/api/config/shadows", { role: "default", text, nodes: ["x"] });
    expect(shadow.status).toBe(200);
    expect((await root.post(`/api/config/shadows/${shadow.body.id}/discard`, {})).status).toBe(200);
    expect((await root.post("/api/directory/flush", {})).body).toEqual({ cached: false, flushed: 0 });
    const audit = (await root.get("/api/audit")).body.entries as { action: string; actor: string }[];
    for (const action of [
      "config.publish",
      "config.rollback",
      "config.shadow.start",
      "config.shadow.discard",
    ]) {
      expect(audit.find((e) => e.action === action)?.actor).toBe("operator:root");
    }
  });

  it("answers only to its Host names (DNS rebinding) and refuses a foreign Origin", async () => {
    const port = new URL(node.base).port;
    // Before: a page on rebind.evil resolving to 127.0.0.1 was served like the console.
    const rebound = await raw(node.base, "GET", "/api/auth/me", { host: `rebind.evil:${port}` });
    expect(rebound.status).toBe(400);
    expect(JSON.parse(rebound.body).title).toBe("unknown host");
    const login = await raw(
      node.base,
      "POST",
      "/api/auth/login",
      { host: `rebind.evil:${port}`, origin: `http://rebind.evil:${port}`, ...SEC },
      JSON.stringify({ login: "root", password: "root-password-1" }),
    );
    expect(login.status).toBe(400);
    expect(login.headers["set-cookie"]).toBeUndefined();
    expect((await raw(node.base, "GET", "/healthz", { host: `rebind.evil:${port}` })).status).toBe(400);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, "[::1]", "LOCALHOST"]) {
      expect((await raw(node.base, "GET", "/api/auth/me", { host })).status).toBe(401);
    }
    const foreign = await root.call("POST", "/api/directory/flush", {}, { origin: "http://rebind.evil" });
    expect(foreign.status).toBe(403);

    const named = await startWebNode(config("web: { hosts: [console.example] }"));
    try {
      expect((await raw(named.base, "GET", "/api/auth/me", { host: "127.0.0.1" })).status).toBe(400);
      expect((await raw(named.base, "GET", "/api/auth/me", { host: "Console.Example:8443" })).status).toBe(
        401,
      );
    } finally {
      await named.close();
    }
  });

  it("checks web.hosts, web.tls and web.trusted_proxies like every setting: FILE:LINE: path: message", () => {
    const text = `web:\n  listen: "127.0.0.1:8080"\n  hosts: ["bad host!"]\n  trusted_proxies: [10.0.0.0/8, 10.0.0.0/33, "proxy.example"]\n  tls: { cert: /x.pem }\n`;
    try {
      parseConfig(text, "node.yaml", new FilterRegistry(builtinFilters()));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const issues = (err as ConfigError).issues.map(formatIssue);
      expect(issues).toEqual(
        expect.arrayContaining([
          "node.yaml:3: web.hosts[0]: expected a host name or address, without port",
          "node.yaml:4: web.trusted_proxies[1]: expected an address or CIDR block (e.g. 10.0.0.0/8, 2001:db8::/32)",
          "node.yaml:4: web.trusted_proxies[2]: expected an address or CIDR block (e.g. 10.0.0.0/8, 2001:db8::/32)",
        ]),
      );
      expect(issues.some((i) => /^node\.yaml:5: web\.tls\.key: /.test(i))).toBe(true);
    }
  });

  it("believes X-Forwarded-For only from web.trusted_proxies: per-client throttling, nobody locks root out", async () => {
    const proxied = await startWebNode(config("web: { trusted_proxies: [127.0.0.1/32] }"));
    try {
      const rt = proxied.runtime;
      await createAccount(rt.store!, rt.config, {
        login: "root",
        role: "operator",
        password: "root-password-1",
      });
      const from = (ip: string) => {
        const c = new ApiClient(proxied.base);
        return {
          login: (l: string, p: string) =>
            c.call("POST", "/api/auth/login", { login: l, password: p }, { "x-forwarded-for": ip }),
        };
      };
      const attacker = from("198.51.100.9");
      for (let i = 0; i < 6; i++) await attacker.login("root", "guess-" + i);
      const blocked = await attacker.login("root", "root-password-1");
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
      // Before: 5 failures locked root for everyone for 15 minutes (and behind a proxy, 20
      // failures locked out every user).
      expect((await from("203.0.113.7").login("root", "root-password-1")).status).toBe(200);
      expect((await from("203.0.113.8").login(" ROOT ", "root-password-1")).status).toBe(200);
    } finally {
      await proxied.close();
    }
    // Not a trusted proxy: the header is the client's own claim and changes nothing.
    const liar = (ip: string) =>
      client().call(
        "POST",
        "/api/auth/login",
        { login: "op3", password: "wrong-password" },
        { "x-forwarded-for": ip },
      );
    for (let i = 0; i < 5; i++) await liar(`192.0.2.${i + 1}`);
    const r = await client().call(
      "POST",
      "/api/auth/login",
      { login: "op3", password: "op3-password-1" },
      { "x-forwarded-for": "192.0.2.200" },
    );
    expect(r.status).toBe(429);
  });

  it("throttles the login it checks: ' admin-a' is admin-a (the trimmed spelling escaped the lock)", async () => {
    const c = client();
    for (const l of ["Admin-A", " admin-a", "admin-a ", "ADMIN-A", "admin-a"]) {
      expect((await c.login(l, "wrong-password")).status).toBe(401);
    }
    const r = await c.login(" admin-a", "admin-a-password-1");
    expect(r.status).toBe(429);
  });

  it("serves HTTPS natively with web.tls (HSTS, Secure cookie) and names an unreadable certificate", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-webtls-"));
    const tls = await loadTls(undefined, dir, "localhost");
    const rt = await Runtime.create({
      configText: `${config(`web: { tls: { cert: ${tls.cert}, key: ${tls.key} } }`)(dir)}`,
      logger: pino({ level: "silent" }),
    });
    let app: FastifyInstance | null = null;
    try {
      await createAccount(rt.store!, rt.config, {
        login: "root",
        role: "operator",
        password: "root-password-1",
      });
      app = await startWeb(rt, "127.0.0.1:0");
      const port = (app.server.address() as { port: number }).port;
      const get = (path: string, method = "GET", body?: string) =>
        new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
          const req = httpsRequest(
            { host: "127.0.0.1", port, path, method, rejectUnauthorized: false, headers: body ? SEC : {} },
            (res) => {
              res.resume();
              res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers }));
            },
          );
          req.on("error", reject);
          req.end(body);
        });
      const h = await get("/healthz");
      expect(h.status).toBe(200);
      expect(h.headers["strict-transport-security"]).toMatch(/max-age=/);
      const l = await get(
        "/api/auth/login",
        "POST",
        JSON.stringify({ login: "root", password: "root-password-1" }),
      );
      expect(l.status).toBe(200);
      expect(String(l.headers["set-cookie"])).toMatch(/Secure/);
    } finally {
      await app?.close();
      await rt.close();
    }
    const missing = await Runtime.create({
      configText: config("web: { tls: { cert: /nonexistent/c.pem, key: /nonexistent/k.pem } }")(dir),
      logger: pino({ level: "silent" }),
    });
    try {
      await expect(startWeb(missing, "127.0.0.1:0")).rejects.toThrow(
        /web\.tls\.cert: cannot read \/nonexistent\/c\.pem/,
      );
    } finally {
      await missing.close();
    }
  });

  it("ends sessions on demotion, user deletion and password change (a demoted operator could create operators)", async () => {
    const op2 = client();
    expect((await op2.login("op2", "op2-password-1")).status).toBe(200);
    expect(
      (
        await root.post("/api/accounts", {
          login: "op2",
          role: "tenant_admin",
          tenant: "a",
          password: "op2-password-2",
        })
      ).status,
    ).toBe(200);
    // Before: the old session stayed an operator's and could create a new operator.
    const made = await op2.post("/api/accounts", {
      login: "evil",
      role: "operator",
      password: "evil-password-1",
    });
    expect(made.status).toBe(401);
    expect(await node.runtime.store!.getAccount("evil")).toBeNull();
    expect((await op2.get("/api/auth/me")).status).toBe(401);

    const carol = client();
    expect((await carol.login("carol@a.example", "carol-password-1")).status).toBe(200);
    const dave = client();
    expect((await dave.login("dave@a.example", "dave-password-1")).status).toBe(200);
    expect((await root.del("/api/users/carol@a.example")).status).toBe(200);
    // Before: a deleted user kept reading quarantine for hours.
    expect((await carol.get("/api/quarantine")).status).toBe(401);
    expect((await root.put("/api/users/dave@a.example", { password: "dave-password-2" })).status).toBe(200);
    expect((await dave.get("/api/quarantine")).status).toBe(401);
    expect((await dave.login("dave@a.example", "dave-password-2")).status).toBe(200);
    expect((await dave.get("/api/me/settings")).status).toBe(200);
  });

  it("disables, enables and deletes accounts; logs out everywhere (API and `sluice web logout`)", async () => {
    const store = node.runtime.store!;
    await createAccount(store, node.runtime.config, {
      login: "ta-b",
      role: "tenant_admin",
      tenant: "b",
      password: "ta-b-password-1",
    });
    const ta = client();
    expect((await ta.login("ta-b", "ta-b-password-1")).status).toBe(200);
    const off = await root.post("/api/accounts/ta-b/disable", {});
    expect(off.body).toMatchObject({ login: "ta-b", disabled: true });
    expect((await ta.get("/api/auth/me")).status).toBe(401);
    expect((await client().login("ta-b", "ta-b-password-1")).status).toBe(401);
    expect((await root.post("/api/accounts/ta-b/enable", {})).body.disabled).toBe(false);
    expect((await ta.login("ta-b", "ta-b-password-1")).status).toBe(200);
    // An operator cannot disable or delete itself, nor remove the last operator who can log in.
    expect((await root.post("/api/accounts/root/disable", {})).status).toBe(409);
    expect((await root.del("/api/accounts/root")).status).toBe(409);

    // Log out everywhere: both of ta-b's sessions end.
    const ta2 = client();
    expect((await ta2.login("ta-b", "ta-b-password-1")).status).toBe(200);
    expect((await ta.post("/api/auth/logout-everywhere", {})).status).toBe(200);
    expect((await ta.get("/api/auth/me")).status).toBe(401);
    expect((await ta2.get("/api/auth/me")).status).toBe(401);
    expect((await ta2.login("ta-b", "ta-b-password-1")).status).toBe(200);
    expect((await root.post("/api/accounts/ta-b/logout", {})).status).toBe(200);
    expect((await ta2.get("/api/auth/me")).status).toBe(401);

    expect((await ta2.login("ta-b", "ta-b-password-1")).status).toBe(200);
    expect((await root.del("/api/accounts/ta-b")).status).toBe(200);
    expect((await ta2.get("/api/auth/me")).status).toBe(401);
    expect((await client().login("ta-b", "ta-b-password-1")).status).toBe(401);
    const list = (await root.get("/api/accounts")).body.accounts as { login: string }[];
    expect(list.map((a) => a.login)).not.toContain("ta-b");
    const actions = ((await root.get("/api/audit")).body.entries as { action: string }[]).map(
      (e) => e.action,
    );
    expect(actions).toEqual(
      expect.arrayContaining(["account.disable", "account.enable", "account.delete", "session.revoke"]),
    );

    // The command line ends an end user's sessions too (the node need not be asked).
    const dave = client();
    expect((await dave.login("dave@a.example", "dave-password-2")).status).toBe(200);
    const cfgFile = join(node.dir, "sluice.yaml");
    writeFileSync(cfgFile, config()(node.dir));
    const r = await run(["web", "logout", "dave@a.example", "--config", cfgFile]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("every session of dave@a.example ended");
    expect((await dave.get("/api/me/settings")).status).toBe(401);
  });

  it("ends an idle session sooner for operators than for end users, and every session 8 h after login", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    try {
      const op = client();
      expect((await op.login("root", "root-password-1")).status).toBe(200);
      const user = client();
      expect((await user.login("dave@a.example", "dave-password-2")).status).toBe(200);
      vi.setSystemTime(Date.now() + 16 * 60_000);
      expect((await op.get("/api/auth/me")).status).toBe(401);
      expect((await user.get("/api/auth/me")).status).toBe(200);
      // Activity keeps an end user's session alive (the cookie is renewed) …
      for (let i = 0; i < 10; i++) {
        vi.setSystemTime(Date.now() + 45 * 60_000);
        expect((await user.get("/api/auth/me")).status).toBe(200);
      }
      // … until 8 h after login, whatever the activity.
      vi.setSystemTime(Date.now() + 45 * 60_000);
      expect((await user.get("/api/auth/me")).status).toBe(401);
    } finally {
      vi.useRealTimers();
    }
    // Eight hours went by for the store too: the operator of the other tests logs in again.
    expect((await root.login("root", "root-password-1")).status).toBe(200);
  });

  it("redacts secrets in audit entries and revision texts; a republished redacted text keeps them", async () => {
    const hash = await hash16k("some-user-password");
    const text = [
      "directory:",
      "  type: ldap",
      "  url: ldap://127.0.0.1:1",
      "  bind_dn: cn=sluice",
      "  bind_password: ldap-bind-secret",
      "  tenants: { a: { base_dn: 'ou=a' }, b: { base_dn: 'ou=b' } }",
      "tenants:",
      "  - id: a",
      "    domains: [a.example]",
      "    users:",
      `      - { address: u1@a.example, password_hash: "${hash}" }`,
      "  - id: b",
      "    domains: [b.example]",
      "",
    ].join("\n");
    const pub = await root.post("/api/config/revisions", { role: "sec", text });
    expect(pub.status).toBe(200);
    const shown = (await root.get(`/api/config/revisions/${pub.body.rev}`)).body.text as string;
    expect(shown).not.toContain("scrypt$");
    expect(shown).not.toContain("ldap-bind-secret");
    expect(shown).toContain("[redacted]");
    // Before: config.publish entries carried the users' hashes and the LDAP bind password.
    const again = await root.post("/api/config/revisions", { role: "sec", text: shown, note: "edited" });
    expect(again.status).toBe(200);
    const stored = (await node.runtime.store!.getConfigRevision(again.body.rev as number))!.text;
    expect(stored).toContain(hash);
    expect(stored).toContain("ldap-bind-secret");
    const audit = JSON.stringify((await root.get("/api/audit")).body.entries);
    expect(audit).not.toContain("scrypt$");
    expect(audit).not.toContain("ldap-bind-secret");
    const raw = JSON.stringify(await node.runtime.store!.listAudit({ limit: 1000 }));
    expect(raw).not.toContain("scrypt$");
    expect(raw).not.toContain("ldap-bind-secret");
    const fresh = shown.replace(
      "  - id: b",
      '      - { address: u2@a.example, password_hash: "[redacted]" }\n  - id: b',
    );
    const refused = await root.post("/api/config/revisions", { role: "sec", text: fresh });
    expect(refused.status).toBe(422);
    expect((refused.body.issues as string[])[0]).toMatch(
      /^revision for role sec:\d+: tenants\[0\]\.users\[1\]\.password_hash: \[redacted\] stands for a secret/,
    );
  });

  it("sends the security headers on every answer; /healthz no longer shows the configuration path", async () => {
    const health = await fetch(node.base + "/healthz");
    expect(await health.json()).toEqual({ status: "ok", store: "open" });
    for (const [path, status] of [
      ["/healthz", 200],
      ["/metrics", 200],
      ["/api/auth/me", 401],
      ["/api/nothing", 404],
      ["/%E0%A4%A", 400],
      ["/", null],
      ["/assets/none.js", null],
    ] as const) {
      const r = await fetch(node.base + path);
      if (status !== null) expect(r.status).toBe(status);
      expect(r.headers.get("x-content-type-options")).toBe("nosniff");
      expect(r.headers.get("x-frame-options")).toBe("DENY");
      expect(r.headers.get("referrer-policy")).toBe("no-referrer");
      expect(r.headers.get("content-security-policy")).toMatch(/frame-ancestors 'none'/);
    }
  });

  it("takes as long for an unknown login as for a wrong password, and rehashes an old account hash", async () => {
    const store = node.runtime.store!;
    await store.putAccount({
      login: "legacy",
      role: "tenant_admin",
      tenant: "a",
      passwordHash: await hash16k("legacy-password-1"),
      createdAt: new Date(),
    });
    const time = async (login: string) => {
      const t = performance.now();
      await client().login(login, "not-the-password");
      return performance.now() - t;
    };
    await time("legacy");
    const known = Math.min(await time("op2"), await time("dave@a.example"));
    const unknownUser = await time("nobody@a.example");
    const unknownAccount = await time("nobody");
    // Before: 50-135 ms for a real login against 2-7 ms for an unknown one.
    expect(unknownUser).toBeGreaterThan(known / 3);
    expect(unknownAccount).toBeGreaterThan(known / 3);

    const c = client();
    expect((await c.login("legacy", "legacy-password-1")).status).toBe(200);
    expect((await store.getAccount("legacy"))!.passwordHash).toMatch(/^scrypt\$131072\$8\$1\$/);
    expect((await c.get("/api/auth/me")).status).toBe(200);
    expect((await client().login("legacy", "legacy-password-1")).status).toBe(200);
  });
});
