// SMTP AUTH (RFC 4954) mechanisms PLAIN (RFC 4616) and LOGIN, and the failure limiter:
// failed attempts per (user name, client address) and per address, with a delay that grows.
// Never offered before TLS unless a listener is explicitly marked allow_insecure_auth.
import { LoginThrottle } from "../policy/login-throttle.ts";

export interface Credentials {
  login: string;
  secret: string;
}

/** Decode an AUTH PLAIN response (authzid NUL authcid NUL passwd); null if malformed. */
export function decodePlain(b64: string): Credentials | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return null;
  const parts = Buffer.from(b64, "base64").toString("utf8").split("\u0000");
  if (parts.length !== 3) return null;
  const [authz, login, secret] = parts as [string, string, string];
  if (!login || (authz && authz !== login)) return null;
  return { login, secret };
}

export function decodeBase64Line(b64: string): string | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return null;
  return Buffer.from(b64, "base64").toString("utf8");
}

export interface AuthLimits {
  failureDelayMs: number;
  maxFailures: number;
  windowMs: number;
}

/**
 * SMTP AUTH throttling on the shared login throttle (src/policy/login-throttle.ts): a failure
 * is answered after a delay that doubles per failure of that login from that address (max
 * 30 s); after max_failures per (login, address) — or five times that per address, IPv6 per
 * /64 — new attempts from there are refused (421) for a minute, doubling per further failure
 * up to the window. The same user elsewhere is never refused. Shared by all listeners.
 */
export class AuthLimiter {
  private readonly throttle: LoginThrottle;
  private readonly limits: AuthLimits;

  constructor(limits: AuthLimits) {
    this.limits = limits;
    this.throttle = new LoginThrottle({
      freePerLogin: limits.maxFailures,
      freePerAddress: limits.maxFailures * 5,
      // A mail client retries on its own schedule: the first wait is a minute (or the window).
      baseDelayMs: Math.min(limits.windowMs, 60_000),
      maxDelayMs: limits.windowMs,
      windowS: limits.windowMs / 1000,
    });
  }

  /** True while this address, or this user name from this address, must wait. */
  async blocked(ip: string, user: string | null): Promise<boolean> {
    return (await this.throttle.waitMs(ip, user ?? "")) > 0;
  }

  /** Record a failure; returns how long to wait before answering (doubles per failure, max 30 s). */
  async fail(ip: string, user: string | null): Promise<number> {
    const { failures } = await this.throttle.fail(ip, user ?? "");
    return Math.min(30_000, this.limits.failureDelayMs * 2 ** Math.min(failures - 1, 20));
  }

  async succeed(ip: string, user: string): Promise<void> {
    await this.throttle.succeed(ip, user);
  }
}
