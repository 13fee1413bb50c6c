// Throttling failed logins, shared by SMTP AUTH and the console: failures are counted per
// (login, client address) and per client address (IPv6 per /64) with rate-limiter-flexible;
// past a free allowance each further attempt must wait, the wait doubling per failure up to a
// cap. A wait, never a lock: nobody can lock an account for everyone else.
import { isIPv4, isIPv6 } from "node:net";
import { RateLimiterMemory } from "rate-limiter-flexible";

export interface ThrottleOptions {
  /** Failures of one login from one client address after which each attempt must wait. */
  freePerLogin: number;
  /** Failures from one client address, any login, after which each attempt must wait. */
  freePerAddress: number;
  /** The first wait; each further failure doubles it, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Failures are forgotten this long after the last one. */
  windowS: number;
}

export const WEB_LOGIN_THROTTLE: ThrottleOptions = {
  freePerLogin: 5,
  freePerAddress: 50,
  baseDelayMs: 1000,
  maxDelayMs: 15 * 60_000,
  windowS: 15 * 60,
};

/** The one form of a login name that throttling, account lookup and the directory use. */
export function normalizeLogin(raw: string): string {
  return raw.normalize("NFC").trim().toLowerCase();
}

/** The throttling key of a client address: IPv4 as is (also IPv4-mapped IPv6), IPv6 per /64. */
export function addressKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIPv4(ip) || !isIPv6(ip)) return ip;
  return `${expandIPv6(ip).slice(0, 4).join(":")}::/64`;
}

function expandIPv6(ip: string): string[] {
  let s = ip.toLowerCase().replace(/%.*$/, "");
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    s = s.slice(0, v4.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = s.split("::") as [string, string | undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  return groups.map((g) => (parseInt(g, 16) || 0).toString(16));
}

export class LoginThrottle {
  readonly options: ThrottleOptions;
  private readonly perLogin: RateLimiterMemory;
  private readonly perAddress: RateLimiterMemory;
  /** Keys that must wait: the record expires when the wait is over. */
  private readonly waits: RateLimiterMemory;

  constructor(options: ThrottleOptions) {
    this.options = options;
    // Counters only (penalty/set): points are never consumed, so they never reject.
    this.perLogin = new RateLimiterMemory({ keyPrefix: "login", points: 1, duration: options.windowS });
    this.perAddress = new RateLimiterMemory({ keyPrefix: "addr", points: 1, duration: options.windowS });
    this.waits = new RateLimiterMemory({ keyPrefix: "wait", points: 1, duration: 1 });
  }

  private keys(address: string, login: string) {
    const a = addressKey(address);
    return { pair: `${a}|${normalizeLogin(login)}`, address: a };
  }

  /** Milliseconds before this login may be tried from this address (0: go ahead). */
  async waitMs(address: string, login: string): Promise<number> {
    const k = this.keys(address, login);
    let ms = 0;
    for (const key of [`p:${k.pair}`, `a:${k.address}`]) {
      const r = await this.waits.get(key);
      if (r && r.consumedPoints > 1 && r.msBeforeNext > 0) ms = Math.max(ms, r.msBeforeNext);
    }
    return ms;
  }

  /** Record a failure: this pair's failure count and the wait now imposed (ms). */
  async fail(address: string, login: string): Promise<{ failures: number; waitMs: number }> {
    const k = this.keys(address, login);
    const failures = await this.count(this.perLogin, k.pair);
    const fromAddress = await this.count(this.perAddress, k.address);
    const pairWait = this.delay(failures, this.options.freePerLogin);
    const addressWait = this.delay(fromAddress, this.options.freePerAddress);
    if (pairWait) await this.waits.block(`p:${k.pair}`, pairWait / 1000);
    if (addressWait) await this.waits.block(`a:${k.address}`, addressWait / 1000);
    return { failures, waitMs: Math.max(pairWait, addressWait) };
  }

  /** A success forgets this login's failures from this address (not the address's own count). */
  async succeed(address: string, login: string): Promise<void> {
    const k = this.keys(address, login);
    await this.perLogin.delete(k.pair);
    await this.waits.delete(`p:${k.pair}`);
  }

  /** Count one more failure and forget the key windowS after this one (not after the first). */
  private async count(limiter: RateLimiterMemory, key: string): Promise<number> {
    const r = await limiter.penalty(key, 1);
    await limiter.set(key, r.consumedPoints, this.options.windowS);
    return r.consumedPoints;
  }

  /** After the free-th failure: base, then doubling per further failure, up to the cap. */
  private delay(failures: number, free: number): number {
    if (failures < free) return 0;
    return Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** Math.min(failures - free, 30));
  }
}
