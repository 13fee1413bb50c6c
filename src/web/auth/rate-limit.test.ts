// Login throttling: per-login and per-address limits, Retry-After from the oldest failure
// still in the window, reset of the login count on success.
import { describe, it, expect } from "vitest";
import { LoginLimiter } from "./rate-limit.ts";

describe("LoginLimiter", () => {
  it("blocks a login after maxPerLogin failures until the oldest ages out", () => {
    const l = new LoginLimiter({ maxPerLogin: 3, maxPerAddress: 100, windowMs: 60_000 });
    const t0 = 1_000_000;
    for (let i = 0; i < 3; i++) {
      expect(l.retryAfter("192.0.2.1", "root", t0 + i * 1000)).toBe(0);
      l.fail("192.0.2.1", "Root", t0 + i * 1000);
    }
    expect(l.retryAfter("198.51.100.7", "root", t0 + 3000)).toBe(57);
    expect(l.retryAfter("192.0.2.1", "other", t0 + 3000)).toBe(0);
    expect(l.retryAfter("192.0.2.1", "root", t0 + 60_001)).toBe(0);
  });

  it("blocks an address trying many logins, and a success resets only the login count", () => {
    const l = new LoginLimiter({ maxPerLogin: 2, maxPerAddress: 3, windowMs: 60_000 });
    const t0 = 5_000_000;
    l.fail("192.0.2.9", "a", t0);
    l.fail("192.0.2.9", "b", t0);
    l.fail("192.0.2.9", "c", t0);
    expect(l.retryAfter("192.0.2.9", "d", t0 + 1)).toBeGreaterThan(0);
    expect(l.retryAfter("192.0.2.10", "d", t0 + 1)).toBe(0);
    l.fail("192.0.2.10", "e", t0);
    l.fail("192.0.2.11", "e", t0);
    expect(l.retryAfter("192.0.2.12", "e", t0 + 1)).toBeGreaterThan(0);
    l.succeed("E");
    expect(l.retryAfter("192.0.2.12", "e", t0 + 1)).toBe(0);
  });
});
