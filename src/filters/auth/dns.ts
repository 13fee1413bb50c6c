// The DNS resolver of sender authentication and the DNS lists: one node:dns Resolver per server
// set, per-query timeouts, a bounded LRU cache honouring TTLs, a cap on queries in flight, in the
// `(name, rrtype)` shape mailauth calls.
// Not a validating resolver (no DNSSEC) and not a policy: failures are thrown with their DNS
// error code (ETIMEOUT, ESERVFAIL …) and mailauth/the filter turn them into `temperror`.
import { Resolver } from "node:dns/promises";

/** What mailauth's `resolver` option expects: dns.promises.resolve's signature. */
export type MailauthResolver = (name: string, rrtype: string) => Promise<unknown[]>;

export interface DnsOptions {
  /** "ip" or "ip:port" (IPv6 in brackets); empty: the system's servers. */
  servers?: string[];
  /** Per query (each try). */
  timeoutMs?: number;
  tries?: number;
  /** Entries kept (LRU beyond). */
  cacheSize?: number;
  /**
   * node:dns exposes TTLs for A and AAAA only; TXT, MX, PTR and CNAME answers are kept for
   * this long (seconds). Every TTL is capped by maxTtlS.
   */
  defaultTtlS?: number;
  maxTtlS?: number;
  /** NXDOMAIN / NODATA answers. */
  negativeTtlS?: number;
  /** Queries on the wire at once; more wait their turn (an NXDOMAIN storm cannot flood the server). */
  maxInflight?: number;
  /** Queries waiting for a turn; beyond this a query fails at once (ETIMEOUT, "EBUSY …"; never cached). */
  maxQueued?: number;
  /** Clock (tests). */
  now?: () => number;
}

/** Codes that describe the name, not the path to it: cacheable, and not a temporary error. */
const NEGATIVE = new Set(["ENOTFOUND", "ENODATA"]);
/** Codes mailauth knows as temporary; other transport failures are mapped onto ETIMEOUT. */
const TEMPORARY_CODES = new Set(["ETIMEOUT", "ESERVFAIL", "EREFUSED", "ECONNREFUSED", "ECANCELLED"]);

export class DnsError extends Error {
  readonly code: string;
  readonly query: string;
  constructor(code: string, query: string, message?: string) {
    super(message ?? `${code} ${query}`);
    this.name = "DnsError";
    this.code = code;
    this.query = query;
  }
}

interface Entry {
  expires: number;
  value?: unknown[];
  error?: DnsError;
}

export interface DnsStats {
  queries: number;
  hits: number;
  misses: number;
  failures: number;
  /** Refused at once because maxQueued queries were already waiting. */
  busy: number;
  size: number;
  /** On the wire now / waiting for a turn now. */
  active: number;
  queued: number;
}

export class DnsResolver {
  readonly resolve: MailauthResolver;
  private readonly resolver: Resolver;
  private readonly cache = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<unknown[]>>();
  private readonly opts: Required<Omit<DnsOptions, "servers">> & { servers: string[] };
  private readonly counters = { queries: 0, hits: 0, misses: 0, failures: 0, busy: 0 };
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(opts: DnsOptions = {}) {
    this.opts = {
      servers: opts.servers ?? [],
      timeoutMs: opts.timeoutMs ?? 3000,
      tries: opts.tries ?? 2,
      cacheSize: opts.cacheSize ?? 10_000,
      defaultTtlS: opts.defaultTtlS ?? 300,
      maxTtlS: opts.maxTtlS ?? 3600,
      negativeTtlS: opts.negativeTtlS ?? 60,
      maxInflight: opts.maxInflight ?? 64,
      maxQueued: opts.maxQueued ?? 2000,
      now: opts.now ?? Date.now,
    };
    this.resolver = new Resolver({ timeout: this.opts.timeoutMs, tries: this.opts.tries });
    if (this.opts.servers.length) this.resolver.setServers(this.opts.servers);
    this.resolve = (name, rrtype) => this.lookup(name, rrtype);
  }

  get stats(): DnsStats {
    return { ...this.counters, size: this.cache.size, active: this.active, queued: this.waiting.length };
  }

  clear(): void {
    this.cache.clear();
  }

  /**
   * The cached answer, without a query, a promise or a throw (the DNS lists' warm path): the
   * records, the cached NXDOMAIN/NODATA error, or null when the name is not cached (fresh).
   */
  peek(name: string, rrtype: string): { value: unknown[] } | { error: DnsError } | null {
    const hit = this.fresh(this.keyOf(name, rrtype));
    if (!hit) return null;
    this.counters.queries++;
    this.counters.hits++;
    return hit.error ? { error: hit.error } : { value: hit.value! };
  }

  private keyOf(name: string, rrtype: string): string {
    const n = name.toLowerCase();
    return `${rrtype.toUpperCase()} ${n.endsWith(".") ? n.slice(0, -1) : n}`;
  }

  /** A cache entry that has not expired, moved to the LRU's young end; expired ones are dropped. */
  private fresh(key: string): Entry | null {
    const hit = this.cache.get(key);
    if (!hit) return null;
    this.cache.delete(key);
    if (hit.expires <= this.opts.now()) return null;
    // Re-insert: Map order is the LRU order.
    this.cache.set(key, hit);
    return hit;
  }

  async lookup(name: string, rrtype: string): Promise<unknown[]> {
    const type = rrtype.toUpperCase();
    const key = this.keyOf(name, type);
    this.counters.queries++;
    const hit = this.fresh(key);
    if (hit) {
      this.counters.hits++;
      if (hit.error) throw hit.error;
      return hit.value!;
    }
    this.counters.misses++;
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const p = this.capped(name, type, key).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  /** One query under the in-flight cap: wait for a turn, or fail with EBUSY when the queue is full. */
  private async capped(name: string, type: string, key: string): Promise<unknown[]> {
    if (this.active >= this.opts.maxInflight) {
      if (this.waiting.length >= this.opts.maxQueued) {
        this.counters.busy++;
        this.counters.failures++;
        // mailauth knows ETIMEOUT as temporary; the message says what happened.
        throw new DnsError(
          "ETIMEOUT",
          key,
          `EBUSY ${key}: ${this.waiting.length} DNS queries already waiting`,
        );
      }
      // The slot is handed over by release(): `active` stays counted for us.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else this.active++;
    try {
      return await this.query(name, type, key);
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }

  private async query(name: string, type: string, key: string): Promise<unknown[]> {
    const { value, ttlS } = await this.raw(name, type).catch((err: NodeJS.ErrnoException) => {
      const code = err.code ?? "ESERVFAIL";
      if (NEGATIVE.has(code)) {
        const error = new DnsError(code, key);
        this.store(key, { error }, this.opts.negativeTtlS);
        throw error;
      }
      this.counters.failures++;
      // Never cached: the next message asks again.
      throw new DnsError(TEMPORARY_CODES.has(code) ? code : "ETIMEOUT", key, `${code} ${key}`);
    });
    this.store(key, { value }, ttlS);
    return value;
  }

  private store(key: string, entry: Omit<Entry, "expires">, ttlS: number): void {
    const ttl = Math.min(Math.max(ttlS, 0), this.opts.maxTtlS);
    if (ttl === 0) return;
    this.cache.set(key, { ...entry, expires: this.opts.now() + ttl * 1000 });
    while (this.cache.size > this.opts.cacheSize) this.cache.delete(this.cache.keys().next().value!);
  }

  /** One query, bounded by our own timer too (a stuck c-ares query must not hang a session). */
  private async raw(name: string, type: string): Promise<{ value: unknown[]; ttlS: number }> {
    const hardMs = this.opts.timeoutMs * this.opts.tries + 250;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error("timeout"), { code: "ETIMEOUT" })), hardMs);
      timer.unref();
    });
    try {
      return await Promise.race([this.ask(name, type), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async ask(name: string, type: string): Promise<{ value: unknown[]; ttlS: number }> {
    const r = this.resolver;
    switch (type) {
      case "A":
      case "AAAA": {
        const recs =
          type === "A" ? await r.resolve4(name, { ttl: true }) : await r.resolve6(name, { ttl: true });
        const ttlS = recs.length ? Math.min(...recs.map((x) => x.ttl)) : this.opts.negativeTtlS;
        return { value: recs.map((x) => x.address), ttlS };
      }
      case "TXT":
        return { value: await r.resolveTxt(name), ttlS: this.opts.defaultTtlS };
      case "MX":
        return { value: await r.resolveMx(name), ttlS: this.opts.defaultTtlS };
      case "PTR":
        return { value: await r.resolvePtr(name), ttlS: this.opts.defaultTtlS };
      case "CNAME":
        return { value: await r.resolveCname(name), ttlS: this.opts.defaultTtlS };
      default:
        throw Object.assign(new Error(`unsupported rrtype ${type}`), { code: "ENOTIMP" });
    }
  }
}

const shared = new Map<string, DnsResolver>();

/**
 * The process's resolver for a server set and timeout: every filter and tenant with the same
 * settings shares one cache. Tenants that name their own servers get their own instance.
 */
export function sharedResolver(opts: Pick<DnsOptions, "servers" | "timeoutMs"> = {}): DnsResolver {
  const key = JSON.stringify([opts.servers ?? [], opts.timeoutMs ?? 3000]);
  let r = shared.get(key);
  if (!r) {
    r = new DnsResolver(opts);
    shared.set(key, r);
  }
  return r;
}
