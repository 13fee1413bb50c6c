// The shared login throttle: one key per (normalised login, address), IPv6 per /64, waits
// that double instead of locks, and a success from one address never clears another's count.
import { describe, expect, it } from "vitest";
import { addressKey, LoginThrottle, normalizeLogin } from "./login-throttle.ts";

const opts = { freePerLogin: 3, freePerAddress: 10, baseDelayMs: 1000, maxDelayMs: 8000, windowS: 60 };

describe("login throttle", () => {
  it("normalises the login once: ' OP3' and 'op3' share one counter", async () => {
    expect(normalizeLogin("  Op3 ")).toBe("op3");
    const t = new LoginThrottle(opts);
    for (const l of ["op3", " op3"]) await t.fail("192.0.2.1", l);
    expect(await t.waitMs("192.0.2.1", "op3")).toBe(0);
    // Before: the limiter keyed the raw login and " op3" escaped the op3 lock.
    const r = await t.fail("192.0.2.1", "\tOP3 ");
    expect(r).toEqual({ failures: 3, waitMs: 1000 });
    expect(await t.waitMs("192.0.2.1", "op3")).toBeGreaterThan(900);
    expect(await t.waitMs("192.0.2.1", " OP3")).toBeGreaterThan(900);
  });

  it("waits grow per failure up to the cap and never touch other addresses (no lockout of root)", async () => {
    const t = new LoginThrottle(opts);
    const waits = [];
    for (let i = 0; i < 7; i++) waits.push((await t.fail("198.51.100.7", "root")).waitMs);
    expect(waits).toEqual([0, 0, 1000, 2000, 4000, 8000, 8000]);
    expect(await t.waitMs("198.51.100.7", "root")).toBeGreaterThan(7000);
    // The real root, elsewhere, is not held back by the attacker's failures.
    expect(await t.waitMs("203.0.113.5", "root")).toBe(0);
  });

  it("keys IPv6 per /64 and IPv4-mapped addresses as IPv4", async () => {
    expect(addressKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:0db8:0001:0002:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
    expect(addressKey("::ffff:192.0.2.9")).toBe("192.0.2.9");
    expect(addressKey("192.0.2.9")).toBe("192.0.2.9");
    const t = new LoginThrottle(opts);
    for (let i = 0; i < 3; i++) await t.fail(`2001:db8:1:2::${i + 1}`, "alice");
    expect(await t.waitMs("2001:db8:1:2:ffff::9", "alice")).toBeGreaterThan(0);
    expect(await t.waitMs("2001:db8:1:3::1", "alice")).toBe(0);
  });

  it("throttles one address spraying many logins; a success clears only that login's count", async () => {
    const t = new LoginThrottle(opts);
    for (let i = 0; i < 10; i++) await t.fail("192.0.2.50", `user${i}`);
    expect(await t.waitMs("192.0.2.50", "someone-else")).toBeGreaterThan(0);
    expect(await t.waitMs("192.0.2.51", "someone-else")).toBe(0);
    await t.succeed("192.0.2.50", "user9");
    expect(await t.waitMs("192.0.2.50", "someone-else")).toBeGreaterThan(0);

    const u = new LoginThrottle(opts);
    for (let i = 0; i < 3; i++) await u.fail("192.0.2.60", "bob");
    await u.fail("192.0.2.61", "bob");
    await u.succeed("192.0.2.60", "bob");
    expect(await u.waitMs("192.0.2.60", "bob")).toBe(0);
    expect((await u.fail("192.0.2.61", "bob")).failures).toBe(2);
  });
});
