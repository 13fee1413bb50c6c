// The `directory:` key as the configuration loader sees it: defaults, and refusals with paths.
// Cross-checks needing the tenant list (base DN per tenant) happen in LdapDirectory, tested here too.
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../config/errors.ts";
import { parseConfig } from "../../config/load.ts";
import { builtinFilters } from "../../filters/index.ts";
import { FilterRegistry } from "../../pipeline/registry.ts";
import { LdapDirectory } from "./ldap-directory.ts";
import { ldapDirectorySchema } from "./config.ts";

const registry = new FilterRegistry(builtinFilters());
const parse = (directory: string) =>
  parseConfig(
    `tenants:\n  - { id: example, domains: [example.com] }\ndirectory:\n${directory}`,
    "t.yaml",
    registry,
  );

describe("directory configuration", () => {
  it("is optional (built-in directory) and fills LDAP defaults", () => {
    expect(parseConfig("tenants: []\n", "t.yaml", registry).directory).toBeUndefined();
    const c = parse("  type: ldap\n  url: ldap://127.0.0.1:389\n  base_dn: dc=example,dc=com\n").directory;
    expect(c).toMatchObject({
      type: "ldap",
      starttls: false,
      timeout_ms: 3000,
      pool_size: 4,
      filter: "(|(mail={address})(mailAlternateAddress={address}))",
      attributes: { address: "mail", aliases: "mailAlternateAddress", spam_filter: "sluiceSpamFilter" },
      cache: { ttl_s: 300, negative_ttl_s: 60, stale_s: 3600 },
      on_unavailable: "tempfail",
    });
  });

  it.each([
    ["  type: ldap\n  url: http://x\n", /directory\.url/],
    ["  type: ldap\n  url: ldap://x\n  filter: mail={address}\n", /parentheses/],
    ["  type: ldap\n  url: ldap://x\n  filter: (mail=x)\n", /\{address\} or \{local\}/],
    ["  type: ldap\n  url: ldap://x\n  filter: (mail={user})\n", /placeholders/],
    ["  type: ldap\n  url: ldaps://x\n  starttls: true\n", /starttls is for ldap/],
    ["  type: ldap\n  url: ldap://x\n  on_unavailable: accept\n", /on_unavailable/],
    ["  type: ldap\n  url: ldap://x\n  bind_pw: x\n", /bind_pw/],
    ["  type: ad\n", /directory\.type/],
  ])("refuses %j", (text, message) => {
    expect(() => parse(text)).toThrow(ConfigError);
    expect(() => parse(text)).toThrow(message);
  });

  it("needs a base DN for every tenant and knows every tenant it names", () => {
    const tenants = [{ id: "example", domains: ["example.com"] }];
    const cfg = (o: object) => ldapDirectorySchema.parse({ type: "ldap", url: "ldap://127.0.0.1", ...o });
    expect(() => new LdapDirectory({ config: cfg({}), tenants })).toThrow(/tenants\.example\.base_dn/);
    expect(
      () =>
        new LdapDirectory({
          config: cfg({ base_dn: "dc=x", tenants: { nope: { base_dn: "dc=y" } } }),
          tenants,
        }),
    ).toThrow(/directory\.tenants\.nope: no such tenant/);
    expect(
      () => new LdapDirectory({ config: cfg({ base_dn: "dc=x", ca_file: "/nonexistent.pem" }), tenants }),
    ).toThrow(/ca_file: cannot read/);
  });
});
