// SMTP AUTH throttling on the shared login throttle: the failure answer is delayed more per
// failure, a flood from one address makes it wait, a user's failures from one address never
// refuse the same user elsewhere, IPv6 counts per /64.
import { describe, expect, it } from "vitest";
import { AuthLimiter } from "./auth.ts";

const limits = { failureDelayMs: 100, maxFailures: 3, windowMs: 60_000 };

describe("AuthLimiter", () => {
  it("delays failure answers more each time and refuses new attempts past max_failures", async () => {
    const l = new AuthLimiter(limits);
    const delays = [];
    for (let i = 0; i < 4; i++) delays.push(await l.fail("192.0.2.1", "alice@example.com"));
    expect(delays).toEqual([100, 200, 400, 800]);
    expect(await l.blocked("192.0.2.1", "Alice@Example.com ")).toBe(true);
    // Before: one user key across all addresses: anyone could lock alice out everywhere.
    expect(await l.blocked("198.51.100.2", "alice@example.com")).toBe(false);
    await l.succeed("198.51.100.2", "alice@example.com");
    expect(await l.blocked("192.0.2.1", "alice@example.com")).toBe(true);
  });

  it("counts an IPv6 client per /64 and throttles an address trying many users", async () => {
    const l = new AuthLimiter(limits);
    for (let i = 0; i < 16; i++) await l.fail(`2001:db8:5:6::${(i + 1).toString(16)}`, `u${i}@example.com`);
    expect(await l.blocked("2001:db8:5:6:1::1", "new@example.com")).toBe(true);
    expect(await l.blocked("2001:db8:5:7::1", "new@example.com")).toBe(false);
  });
});
