// The LDAP directory against a real slapd with the shipped schema: lookups, per-tenant base DNs,
// logins, injection attempts, TLS (ldaps and StartTLS), the cache while slapd is stopped, and a
// frozen slapd (timeouts). The pipeline end to end is in ldap-pipeline.test.ts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CachedDirectory } from "../../src/policy/cached-directory.ts";
import { DirectoryError } from "../../src/policy/directory.ts";
import { ldapDirectorySchema } from "../../src/policy/ldap/config.ts";
import { LdapDirectory } from "../../src/policy/ldap/ldap-directory.ts";
import {
  SERVICE_DN,
  SERVICE_PW,
  SUFFIX,
  slapdMissing,
  startSlapd,
  userLdif,
  type Slapd,
} from "../helpers/slapd.ts";

const missing = slapdMissing();
if (missing) console.warn(`skipping LDAP directory tests: ${missing}`);

const TENANTS = [
  { id: "example", domains: ["example.com", "example.net"] },
  { id: "other", domains: ["other.org"] },
];

describe.skipIf(missing !== null)("LDAP directory (real slapd)", () => {
  let slapd: Slapd;
  const open: LdapDirectory[] = [];

  function directory(over: Record<string, unknown> = {}): LdapDirectory {
    const config = ldapDirectorySchema.parse({
      type: "ldap",
      url: slapd.url,
      bind_dn: SERVICE_DN,
      bind_password: SERVICE_PW,
      timeout_ms: 1000,
      tenants: { example: { base_dn: `ou=people,${SUFFIX}` }, other: { base_dn: `ou=other,${SUFFIX}` } },
      ...over,
    });
    const d = new LdapDirectory({ config, tenants: TENANTS });
    open.push(d);
    return d;
  }

  beforeAll(async () => {
    slapd = await startSlapd();
    await slapd.ldapadd(`dn: ou=other,${SUFFIX}\nobjectClass: organizationalUnit\nou: other\n`);
    await slapd.ldapadd(
      [
        userLdif({
          uid: "alice",
          mail: "alice@example.com",
          aliases: ["al@example.com", "alice@example.net"],
          password: "alice-pw",
          extra: {
            sluiceSpamFilter: "FALSE",
            sluiceSpamTagThreshold: "4.5",
            sluiceLanguage: "ja",
            sluiceWhitelist: ["friend.org"],
            sluiceBlacklist: ["*@spammer.org", "bad@x.org"],
          },
        }),
        userLdif({
          uid: "bob",
          mail: "bob@example.com",
          password: "bob-pw",
          extra: { sluiceBlacklist: Array.from({ length: 25 }, (_, i) => `s${i}@spam.example`) },
        }),
        // A user of tenant "other" filed under the wrong tenant's base: must not be found.
        userLdif({ uid: "dave", mail: "dave@other.org" }),
      ].join("\n"),
    );
    await slapd.ldapadd(
      userLdif({ uid: "carol", mail: "carol@other.org", password: "carol-pw" }).replace(
        "ou=people",
        "ou=other",
      ),
    );
  });

  afterAll(async () => {
    await Promise.all(open.map((d) => d.close()));
    await slapd?.stop();
  });

  it("finds a user by primary address and by alias, case-insensitively, with Sluice attributes", async () => {
    const d = directory();
    const byPrimary = await d.lookup("alice@example.com");
    expect(byPrimary).toEqual({
      id: "alice",
      tenant: "example",
      address: "alice@example.com",
      aliases: ["al@example.com", "alice@example.net"],
      language: "ja",
      spamFilter: false,
      thresholds: { tag: 4.5 },
      whitelist: ["friend.org"],
      blacklist: ["*@spammer.org", "bad@x.org"],
      sendAs: [],
      quarantine: null,
    });
    expect(await d.lookup("AL@Example.COM")).toEqual(byPrimary);
    expect(await d.lookup("alice@example.net")).toEqual(byPrimary);
    expect((await d.lookup("bob@example.com"))?.spamFilter).toBeNull();
  });

  it("answers null for unknown addresses and for domains of no tenant", async () => {
    const d = directory();
    expect(await d.lookup("nobody@example.com")).toBeNull();
    expect(await d.lookup("alice@elsewhere.org")).toBeNull();
  });

  it("searches each tenant under its own base DN only", async () => {
    const d = directory();
    expect((await d.lookup("carol@other.org"))?.tenant).toBe("other");
    // dave's entry exists, but under tenant example's base.
    expect(await slapd.ldapsearch(SUFFIX, "(mail=dave@other.org)", ["dn"])).toMatch(/uid=dave/);
    expect(await d.lookup("dave@other.org")).toBeNull();
  });

  it("returns lists whole (the lists filter cuts them to the limit and flags it)", async () => {
    expect((await directory().lookup("bob@example.com"))?.blacklist).toHaveLength(25);
  });

  it("authenticates by binding as the found DN (primary or alias login); wrong or empty passwords fail", async () => {
    const d = directory();
    expect((await d.authenticate("alice@example.com", "alice-pw"))?.id).toBe("alice");
    expect((await d.authenticate("al@example.com", "alice-pw"))?.id).toBe("alice");
    expect((await d.authenticate("carol@other.org", "carol-pw"))?.tenant).toBe("other");
    expect(await d.authenticate("alice@example.com", "bob-pw")).toBeNull();
    expect(await d.authenticate("alice@example.com", "")).toBeNull();
    expect(await d.authenticate("nobody@example.com", "x")).toBeNull();
  });

  it("keeps injection attempts inside the assertion value: no user, no error", async () => {
    // Sanity: the same text unescaped does match entries, so these tests can fail.
    expect(await slapd.ldapsearch(SUFFIX, "(|(mail=*)(uid=*))", ["dn"])).toMatch(/uid=alice/);
    const byAddress = directory();
    const byLocal = directory({ filter: "(|(uid={local})(mail={address}))" });
    const attempts = [
      "*@example.com",
      "*)(uid=*@example.com",
      "alice@example.com)(mail=*",
      "*)(|(mail=*)@example.com",
      "\\00@example.com",
      "\0*@example.com",
      "(mail=*)@example.com",
      "al*@example.com",
      "alice)(sluiceSpamFilter=FALSE@example.com",
    ];
    for (const a of attempts) {
      expect(await byAddress.lookup(a), a).toBeNull();
      expect(await byLocal.lookup(a), a).toBeNull();
      expect(await byAddress.authenticate(a, "alice-pw"), a).toBeNull();
    }
    // {local} = "alice" legitimately matches uid=alice: the template works, only syntax is neutralised.
    expect((await byLocal.lookup("alice@example.com"))?.id).toBe("alice");
  });

  it("pools connections: many concurrent lookups share pool_size connections, each bound once", async () => {
    const accepted = () =>
      (readFileSync(join(slapd.dir, "slapd.log"), "utf8").match(/ ACCEPT from /g) ?? []).length;
    const d = directory({ pool_size: 2 });
    const before = accepted();
    const addresses = ["alice@example.com", "al@example.com", "bob@example.com", "nobody@example.com"];
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => d.lookup(addresses[i % 4]!)));
    expect(results.map((u) => u?.id ?? null)).toEqual(
      Array.from({ length: 40 }, (_, i) => ["alice", "alice", "bob", null][i % 4]),
    );
    await d.lookup("bob@example.com");
    expect(accepted() - before).toBe(2);
  });

  it("fails with DirectoryError when the service account cannot bind", async () => {
    await expect(directory({ bind_password: "wrong" }).lookup("alice@example.com")).rejects.toBeInstanceOf(
      DirectoryError,
    );
  });

  it("reports a missing base DN as DirectoryError (tempfail), not as an unknown user", async () => {
    const d = directory({
      tenants: { example: { base_dn: `ou=gone,${SUFFIX}` }, other: { base_dn: SUFFIX } },
    });
    await expect(d.lookup("alice@example.com")).rejects.toThrow(/does not exist/);
  });

  describe("TLS", () => {
    it("ldaps:// with the configured CA", async () => {
      const d = directory({ url: slapd.ldapsUrl, ca_file: slapd.caFile });
      expect((await d.lookup("alice@example.com"))?.id).toBe("alice");
      expect((await d.authenticate("alice@example.com", "alice-pw"))?.id).toBe("alice");
    });

    it("StartTLS on ldap:// with the configured CA", async () => {
      const d = directory({ starttls: true, ca_file: slapd.caFile });
      expect((await d.lookup("al@example.com"))?.id).toBe("alice");
      expect((await d.authenticate("alice@example.com", "alice-pw"))?.id).toBe("alice");
    });

    it("refuses a server certificate the CA does not vouch for", async () => {
      for (const d of [directory({ url: slapd.ldapsUrl }), directory({ starttls: true })]) {
        const err = await d.lookup("alice@example.com").catch((e: unknown) => e);
        expect(err).toBeInstanceOf(DirectoryError);
        expect((err as Error).message).toMatch(/certificate/i);
      }
    });
  });

  describe("outages", () => {
    it("slapd frozen (SIGSTOP): lookups and logins fail within timeout_ms, then recover", async () => {
      const d = directory({ timeout_ms: 400, pool_size: 1 });
      expect(await d.lookup("alice@example.com")).not.toBeNull(); // pooled connection open
      await slapd.pause();
      try {
        const t0 = Date.now();
        await expect(d.lookup("bob@example.com")).rejects.toBeInstanceOf(DirectoryError);
        await expect(d.authenticate("bob@example.com", "bob-pw")).rejects.toBeInstanceOf(DirectoryError);
        const fresh = directory({ timeout_ms: 400 });
        await expect(fresh.lookup("bob@example.com")).rejects.toBeInstanceOf(DirectoryError);
        expect(Date.now() - t0).toBeLessThan(3 * 400 + 600);
      } finally {
        slapd.resume();
      }
      expect((await d.lookup("bob@example.com"))?.id).toBe("bob");
    });

    it("slapd stopped: cached users served (stale within bounds), unknown ones tempfail or get tenant defaults", async () => {
      const mk = (onUnavailable: "tempfail" | "defaults") => {
        const ldap = directory({ timeout_ms: 500 });
        return new CachedDirectory(ldap, {
          cache: { ttl_s: 0.2, negative_ttl_s: 0.2, stale_s: 1.5, max_entries: 100, down_retry_s: 0 },
          onUnavailable,
          tenantOf: (a) => ldap.tenantOf(a),
        });
      };
      const tempfail = mk("tempfail");
      const defaults = mk("defaults");
      expect((await tempfail.lookup("alice@example.com"))?.spamFilter).toBe(false);
      expect(await defaults.lookup("alice@example.com")).not.toBeNull();
      await slapd.stop();
      try {
        await new Promise((r) => setTimeout(r, 300)); // past ttl_s, within stale_s
        expect((await tempfail.lookup("alice@example.com"))?.spamFilter).toBe(false);
        expect(tempfail.stats().stale).toBe(1);
        await expect(tempfail.lookup("bob@example.com")).rejects.toBeInstanceOf(DirectoryError);
        await expect(tempfail.authenticate("alice@example.com", "alice-pw")).rejects.toBeInstanceOf(
          DirectoryError,
        );
        expect(await defaults.lookup("bob@example.com")).toMatchObject({
          address: "bob@example.com",
          tenant: "example",
          spamFilter: null,
          blacklist: [],
        });
        await new Promise((r) => setTimeout(r, 1500)); // past stale_s
        await expect(tempfail.lookup("alice@example.com")).rejects.toBeInstanceOf(DirectoryError);
      } finally {
        await slapd.restart();
      }
      expect((await tempfail.lookup("alice@example.com"))?.id).toBe("alice");
    });
  });
});
