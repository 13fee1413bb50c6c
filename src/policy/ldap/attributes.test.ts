// Entry → User mapping: defaults, custom maps, and that bad values are dropped with a warning.
import { describe, expect, it } from "vitest";
import { attributeMapSchema } from "./config.ts";
import { entryToUser, requestedAttributes } from "./attributes.ts";

const MAP = attributeMapSchema.parse({});

describe("entryToUser", () => {
  it("reads the quarantine preference and warns about a bad value", () => {
    const base = { dn: "uid=a,dc=x", mail: "a@example.com" };
    expect(entryToUser({ ...base, sluiceQuarantine: "FALSE" }, MAP, "example")?.user.quarantine).toBe(false);
    expect(entryToUser({ ...base, sluiceQuarantine: "TRUE" }, MAP, "example")?.user.quarantine).toBe(true);
    const bad = entryToUser({ ...base, sluiceQuarantine: "maybe" }, MAP, "example");
    expect(bad?.user.quarantine).toBeNull();
    expect(bad?.warnings).toEqual(['sluiceQuarantine: expected TRUE or FALSE, got "MAYBE"']);
  });

  it("reads a user's own sending limits and warns about a bad value", () => {
    const base = { dn: "uid=a,dc=x", mail: "a@example.com" };
    const r = entryToUser(
      { ...base, sluiceRateMessagesPerHour: "50", sluiceRateRecipientsPerHour: "0" },
      MAP,
      "example",
    );
    expect(r?.user.rateLimits).toEqual({ messagesPerHour: 50, recipientsPerHour: 0 });
    expect(entryToUser(base, MAP, "example")?.user.rateLimits).toBeUndefined();
    const bad = entryToUser({ ...base, sluiceRateMessagesPerHour: "-5" }, MAP, "example");
    expect(bad?.user.rateLimits).toBeUndefined();
    expect(bad?.warnings).toEqual(['sluiceRateMessagesPerHour: not a whole number: "-5"']);
  });

  it("maps the default attributes", () => {
    const r = entryToUser(
      {
        dn: "uid=alice,ou=people,dc=example,dc=com",
        uid: "alice",
        mail: "Alice@Example.com",
        mailalternateaddress: ["al@example.com", "alice@example.com"],
        sluiceSpamFilter: "FALSE",
        sluiceSpamTagThreshold: "4.5",
        sluiceSpamRejectThreshold: "20",
        sluiceWhitelist: ["Friend.org", "*@pals.net"],
        sluiceBlacklist: "bad@spammer.org",
        sluiceLanguage: "JA",
        sluiceSendAs: "sales@example.com",
      },
      MAP,
      "example",
    );
    expect(r).toEqual({
      user: {
        id: "alice",
        tenant: "example",
        address: "alice@example.com",
        aliases: ["al@example.com"],
        language: "ja",
        spamFilter: false,
        thresholds: { tag: 4.5, reject: 20 },
        whitelist: ["friend.org", "*@pals.net"],
        blacklist: ["bad@spammer.org"],
        sendAs: ["sales@example.com"],
        quarantine: null,
      },
      warnings: [],
    });
  });

  it("leaves absent settings to the tenant (null / empty) and falls back to the DN for the id", () => {
    const r = entryToUser({ dn: "cn=x,dc=e", mail: ["x@e.org", "x2@e.org"] }, MAP, "t")!;
    expect(r.user).toMatchObject({
      id: "cn=x,dc=e",
      aliases: ["x2@e.org"],
      spamFilter: null,
      language: null,
    });
    expect(r.user.thresholds).toEqual({});
  });

  it("drops bad values with warnings instead of trusting them", () => {
    const r = entryToUser(
      {
        dn: "uid=b,dc=e",
        mail: "b@e.org",
        sluiceSpamFilter: "maybe",
        sluiceSpamTagThreshold: "1e3",
        sluiceBlacklist: ["ok.org", "not a domain", "<x@y.z>"],
        sluiceLanguage: "fr",
      },
      MAP,
      "t",
    )!;
    expect(r.user.spamFilter).toBeNull();
    expect(r.user.thresholds).toEqual({});
    expect(r.user.blacklist).toEqual(["ok.org"]);
    expect(r.user.language).toBeNull();
    expect(r.warnings).toHaveLength(5);
  });

  it("keeps the id a string when the server sends an attribute named dn (fuzz regression)", () => {
    const e = { dn: [], mail: ["alice@example.com"] } as unknown as Parameters<typeof entryToUser>[0];
    expect(entryToUser(e, MAP, "t")!.user.id).toBe("alice@example.com");
  });

  it("returns null for an entry without a usable primary address", () => {
    expect(entryToUser({ dn: "uid=c,dc=e", mail: "not-an-address" }, MAP, "t")).toBeNull();
  });

  it("follows a custom map and skips unmapped fields", () => {
    const map = attributeMapSchema.parse({ address: "primaryMail", aliases: "", id: "employeeNumber" });
    const r = entryToUser(
      { dn: "x", primarymail: "p@e.org", mailAlternateAddress: "ignored@e.org", employeeNumber: "42" },
      map,
      "t",
    )!;
    expect(r.user).toMatchObject({ id: "42", address: "p@e.org", aliases: [] });
    expect(requestedAttributes(map)).not.toContain("");
    expect(requestedAttributes(map)).toContain("primaryMail");
  });
});
