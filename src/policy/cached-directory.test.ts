// CachedDirectory against a scripted inner directory and a fake clock: TTLs, negative caching,
// bounded stale serving, tempfail vs tenant defaults, flush, single-flight and eviction.
// The same behaviour against a real slapd is in test/integration/ldap-directory.test.ts.
import { describe, expect, it } from "vitest";
import { CachedDirectory } from "./cached-directory.ts";
import { DirectoryError, type Directory } from "./directory.ts";
import type { User } from "../message/types.ts";

function user(address: string, aliases: string[] = []): User {
  return {
    id: address,
    tenant: "t",
    address,
    aliases,
    language: null,
    spamFilter: false,
    thresholds: {},
    whitelist: [],
    blacklist: [],
    sendAs: [],
  };
}

/** An inner directory whose answers the test sets, counting the calls it gets. */
class Scripted implements Directory {
  users = new Map<string, User>();
  down = false;
  calls = 0;
  delayMs = 0;
  async lookup(address: string): Promise<User | null> {
    this.calls++;
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.down) throw new DirectoryError("down");
    return this.users.get(address) ?? null;
  }
  async authenticate(login: string, secret: string): Promise<User | null> {
    this.calls++;
    return secret === "pw" ? (this.users.get(login) ?? null) : null;
  }
}

function setup(onUnavailable: "tempfail" | "defaults" = "tempfail", maxEntries = 100, downRetryS = 0) {
  const inner = new Scripted();
  let t = 1_000_000;
  const fallbacks: string[] = [];
  const d = new CachedDirectory(inner, {
    cache: { ttl_s: 10, negative_ttl_s: 2, stale_s: 30, max_entries: maxEntries, down_retry_s: downRetryS },
    onUnavailable,
    tenantOf: (a) => (a.endsWith("@example.com") ? "t" : null),
    onFallback: (a, kind) => fallbacks.push(`${kind}:${a}`),
    now: () => t,
  });
  return { inner, d, fallbacks, tick: (s: number) => (t += s * 1000) };
}

describe("CachedDirectory", () => {
  it("serves a found user from cache until ttl_s, then asks again", async () => {
    const { inner, d, tick } = setup();
    inner.users.set("a@example.com", user("a@example.com"));
    expect((await d.lookup("A@example.com"))?.address).toBe("a@example.com");
    tick(9);
    await d.lookup("a@example.com");
    expect(inner.calls).toBe(1);
    tick(2);
    await d.lookup("a@example.com");
    expect(inner.calls).toBe(2);
  });

  it("remembers an unknown address for negative_ttl_s only", async () => {
    const { inner, d, tick } = setup();
    expect(await d.lookup("x@example.com")).toBeNull();
    tick(1);
    expect(await d.lookup("x@example.com")).toBeNull();
    expect(inner.calls).toBe(1);
    inner.users.set("x@example.com", user("x@example.com"));
    tick(2);
    expect(await d.lookup("x@example.com")).not.toBeNull();
    expect(inner.calls).toBe(2);
  });

  it("serves a found user stale while the directory is down, up to stale_s past expiry, then tempfails", async () => {
    const { inner, d, tick, fallbacks } = setup();
    inner.users.set("a@example.com", user("a@example.com"));
    await d.lookup("a@example.com");
    inner.down = true;
    tick(11);
    expect((await d.lookup("a@example.com"))?.address).toBe("a@example.com");
    expect(fallbacks).toEqual(["stale:a@example.com"]);
    tick(30);
    await expect(d.lookup("a@example.com")).rejects.toBeInstanceOf(DirectoryError);
    expect(d.stats()).toMatchObject({ stale: 1 });
  });

  it("never serves a stale unknown: down + expired negative entry tempfails", async () => {
    const { inner, d, tick } = setup();
    await d.lookup("x@example.com");
    inner.down = true;
    tick(3);
    await expect(d.lookup("x@example.com")).rejects.toBeInstanceOf(DirectoryError);
  });

  it("on_unavailable: defaults gives a settings-free user of the tenant, and still tempfails outside tenants", async () => {
    const { inner, d } = setup("defaults");
    inner.down = true;
    expect(await d.lookup("new@example.com")).toMatchObject({
      address: "new@example.com",
      tenant: "t",
      spamFilter: null,
      blacklist: [],
    });
    await expect(d.lookup("x@elsewhere.org")).rejects.toBeInstanceOf(DirectoryError);
    expect(d.stats().defaults).toBe(1);
  });

  it("flush(address) forgets the user under every address; flush() forgets all", async () => {
    const { inner, d } = setup();
    const u = user("a@example.com", ["al@example.com"]);
    inner.users.set("a@example.com", u);
    inner.users.set("al@example.com", u);
    await d.lookup("a@example.com");
    await d.lookup("al@example.com");
    await d.lookup("none@example.com");
    expect(d.flush("AL@example.com")).toBe(2);
    expect(d.stats().size).toBe(1);
    expect(d.flush()).toBe(1);
    await d.lookup("a@example.com");
    expect(inner.calls).toBe(4);
  });

  it("asks the directory once for concurrent lookups of one address", async () => {
    const { inner, d } = setup();
    inner.delayMs = 20;
    inner.users.set("a@example.com", user("a@example.com"));
    const all = await Promise.all([1, 2, 3, 4].map(() => d.lookup("a@example.com")));
    expect(all.every((u) => u?.address === "a@example.com")).toBe(true);
    expect(inner.calls).toBe(1);
  });

  it("evicts the least recently used entry beyond max_entries", async () => {
    const { inner, d } = setup("tempfail", 2);
    for (const a of ["a", "b", "c"]) inner.users.set(`${a}@example.com`, user(`${a}@example.com`));
    await d.lookup("a@example.com");
    await d.lookup("b@example.com");
    await d.lookup("a@example.com");
    await d.lookup("c@example.com");
    expect(d.stats().size).toBe(2);
    inner.calls = 0;
    await d.lookup("a@example.com");
    expect(inner.calls).toBe(0);
    await d.lookup("b@example.com");
    expect(inner.calls).toBe(1);
  });

  it("after a failure, skips the directory for down_retry_s (stale and fallbacks answer at once), then probes again", async () => {
    const { inner, d, tick } = setup("tempfail", 100, 5);
    inner.users.set("a@example.com", user("a@example.com"));
    await d.lookup("a@example.com");
    tick(11);
    inner.down = true;
    expect((await d.lookup("a@example.com"))?.address).toBe("a@example.com"); // probe fails, stale
    expect(inner.calls).toBe(2);
    inner.down = false;
    tick(1);
    expect((await d.lookup("a@example.com"))?.address).toBe("a@example.com"); // stale, no probe
    await expect(d.lookup("b@example.com")).rejects.toThrow(/failed recently/);
    expect(inner.calls).toBe(2);
    tick(5);
    inner.users.set("b@example.com", user("b@example.com"));
    expect((await d.lookup("b@example.com"))?.address).toBe("b@example.com");
    expect(inner.calls).toBe(3);
    // Up again: the window is closed, every miss asks the directory.
    expect(await d.lookup("c@example.com")).toBeNull();
    expect(inner.calls).toBe(4);
  });

  it("never caches logins", async () => {
    const { inner, d } = setup();
    inner.users.set("a@example.com", user("a@example.com"));
    expect(await d.authenticate("a@example.com", "pw")).not.toBeNull();
    expect(await d.authenticate("a@example.com", "pw")).not.toBeNull();
    expect(await d.authenticate("a@example.com", "bad")).toBeNull();
    expect(inner.calls).toBe(3);
  });
});
