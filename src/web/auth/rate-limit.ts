// Login throttling: failed attempts are counted per client address and per login name in a
// sliding window; past the limit, logins answer 429 with Retry-After until old failures age
// out. In memory, per node: a cluster multiplies the limit by its node count, which is fine.

export interface LimitOptions {
  maxPerLogin: number;
  maxPerAddress: number;
  windowMs: number;
}

export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly opts: LimitOptions;

  constructor(opts: Partial<LimitOptions> = {}) {
    this.opts = { maxPerLogin: 5, maxPerAddress: 20, windowMs: 15 * 60_000, ...opts };
  }

  private recent(key: string, now: number): number[] {
    const list = (this.failures.get(key) ?? []).filter((t) => t > now - this.opts.windowMs);
    if (list.length) this.failures.set(key, list);
    else this.failures.delete(key);
    return list;
  }

  /** Seconds to wait before another attempt is allowed (0: go ahead). */
  retryAfter(address: string, login: string, now = Date.now()): number {
    let wait = 0;
    for (const [key, max] of this.keys(address, login)) {
      const list = this.recent(key, now);
      if (list.length >= max) wait = Math.max(wait, list[list.length - max]! + this.opts.windowMs - now);
    }
    return Math.ceil(wait / 1000);
  }

  fail(address: string, login: string, now = Date.now()): void {
    // Many distinct logins or addresses must not grow the table without bound.
    if (this.failures.size > 100_000) for (const key of [...this.failures.keys()]) this.recent(key, now);
    for (const [key] of this.keys(address, login)) this.failures.set(key, [...this.recent(key, now), now]);
  }

  succeed(login: string): void {
    this.failures.delete(`login:${login.toLowerCase()}`);
  }

  private keys(address: string, login: string): [string, number][] {
    return [
      [`ip:${address}`, this.opts.maxPerAddress],
      [`login:${login.toLowerCase()}`, this.opts.maxPerLogin],
    ];
  }
}
