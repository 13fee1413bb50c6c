// SMTP AUTH (RFC 4954) mechanisms PLAIN (RFC 4616) and LOGIN, and the failure limiter:
// failed attempts per client address and per user name, with a delay that grows.
// Never offered before TLS unless a listener is explicitly marked allow_insecure_auth.

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

/** Counts failures per key (ip:…, user:…) in a sliding window; shared by all listeners. */
export class AuthLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly limits: AuthLimits;

  constructor(limits: AuthLimits) {
    this.limits = limits;
  }

  private recent(key: string, now: number): number[] {
    const list = (this.failures.get(key) ?? []).filter((t) => now - t < this.limits.windowMs);
    if (list.length) this.failures.set(key, list);
    else this.failures.delete(key);
    return list;
  }

  /** True when this address or user name has failed too often lately. */
  blocked(ip: string, user: string | null, now = Date.now()): boolean {
    if (this.recent(`ip:${ip}`, now).length >= this.limits.maxFailures) return true;
    return user !== null && this.recent(`user:${user.toLowerCase()}`, now).length >= this.limits.maxFailures;
  }

  /** Record a failure; returns how long to wait before answering (doubles per failure, max 30 s). */
  fail(ip: string, user: string | null, now = Date.now()): number {
    const keys = [`ip:${ip}`, ...(user ? [`user:${user.toLowerCase()}`] : [])];
    let n = 0;
    for (const k of keys) {
      const list = this.recent(k, now);
      list.push(now);
      this.failures.set(k, list);
      n = Math.max(n, list.length);
    }
    if (this.failures.size > 100_000) this.failures.clear(); // bound memory under a flood
    return Math.min(30_000, this.limits.failureDelayMs * 2 ** (n - 1));
  }

  succeed(ip: string, user: string): void {
    this.failures.delete(`ip:${ip}`);
    this.failures.delete(`user:${user.toLowerCase()}`);
  }
}
