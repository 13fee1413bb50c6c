// One Directory contract, run against both implementations with the same users: the built-in
// directory (configuration file) and the LDAP directory (real slapd, shipped schema). What one
// answers, the other must too, apart from the id (config: the address; LDAP: uid).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.ts";
import { builtinFilters } from "../../src/filters/index.ts";
import { FilterRegistry } from "../../src/pipeline/registry.ts";
import { BuiltinDirectory } from "../../src/policy/builtin-directory.ts";
import type { Directory } from "../../src/policy/directory.ts";
import { ldapDirectorySchema } from "../../src/policy/ldap/config.ts";
import { LdapDirectory } from "../../src/policy/ldap/ldap-directory.ts";
import { hashPassword } from "../../src/policy/password.ts";
import type { User } from "../../src/message/types.ts";
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
if (missing) console.warn(`skipping directory contract against LDAP: ${missing}`);

const withoutId = (u: User | null) => (u ? { ...u, id: undefined } : null);

function contract(name: string, make: () => Promise<Directory>) {
  describe(`Directory contract: ${name}`, () => {
    let d: Directory;
    beforeAll(async () => {
      d = await make();
    });

    it("finds a user by primary address and alias, case-insensitively", async () => {
      const u = await d.lookup("alice@example.com");
      expect(withoutId(u)).toEqual({
        id: undefined,
        tenant: "example",
        address: "alice@example.com",
        aliases: ["al@example.com"],
        language: "ja",
        spamFilter: false,
        thresholds: { tag: 4, reject: 25 },
        whitelist: ["friend.org"],
        blacklist: ["*@spammer.org"],
        sendAs: ["team@example.com"],
        quarantine: null,
      });
      expect(await d.lookup("AL@EXAMPLE.COM")).toEqual(u);
    });

    it("leaves unset settings to the tenant", async () => {
      expect(withoutId(await d.lookup("bob@example.com"))).toMatchObject({
        spamFilter: null,
        language: null,
        thresholds: {},
        whitelist: [],
        blacklist: [],
      });
    });

    it("answers null for unknown addresses and filter syntax", async () => {
      for (const a of ["nobody@example.com", "*@example.com", "*)(mail=*@example.com", "al*@example.com"]) {
        expect(await d.lookup(a), a).toBeNull();
      }
    });

    it("authenticates with the right password only", async () => {
      expect((await d.authenticate("alice@example.com", "alice-pw"))?.address).toBe("alice@example.com");
      expect(await d.authenticate("alice@example.com", "wrong")).toBeNull();
      expect(await d.authenticate("alice@example.com", "")).toBeNull();
      expect(await d.authenticate("nobody@example.com", "alice-pw")).toBeNull();
    });
  });
}

contract("built-in", async () => {
  const yaml = `
tenants:
  - id: example
    domains: [example.com]
    users:
      - address: alice@example.com
        aliases: [al@example.com]
        language: ja
        spam_filter: false
        thresholds: { tag: 4, reject: 25 }
        whitelist: [friend.org]
        blacklist: ["*@spammer.org"]
        send_as: [team@example.com]
        password_hash: "${await hashPassword("alice-pw")}"
      - address: bob@example.com
`;
  return new BuiltinDirectory(parseConfig(yaml, "(contract)", new FilterRegistry(builtinFilters())), null);
});

describe.skipIf(missing !== null)("against slapd", () => {
  let slapd: Slapd;
  let ldap: LdapDirectory;
  beforeAll(async () => {
    slapd = await startSlapd();
    await slapd.ldapadd(
      userLdif({
        uid: "alice",
        mail: "alice@example.com",
        aliases: ["al@example.com"],
        password: "alice-pw",
        extra: {
          sluiceLanguage: "ja",
          sluiceSpamFilter: "FALSE",
          sluiceSpamTagThreshold: "4",
          sluiceSpamRejectThreshold: "25",
          sluiceWhitelist: "friend.org",
          sluiceBlacklist: "*@spammer.org",
          sluiceSendAs: "team@example.com",
        },
      }) +
        "\n" +
        userLdif({ uid: "bob", mail: "bob@example.com" }),
    );
  });
  afterAll(async () => {
    await ldap?.close();
    await slapd?.stop();
  });
  contract("LDAP", async () => {
    ldap = new LdapDirectory({
      config: ldapDirectorySchema.parse({
        type: "ldap",
        url: slapd.url,
        bind_dn: SERVICE_DN,
        bind_password: SERVICE_PW,
        base_dn: SUFFIX,
      }),
      tenants: [{ id: "example", domains: ["example.com"] }],
    });
    return ldap;
  });
});
