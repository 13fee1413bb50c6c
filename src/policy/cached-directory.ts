// A caching Directory wrapper: found users for ttl_s, unknown addresses for negative_ttl_s, and
// found users up to stale_s past expiry while the directory is down. When it is down and nothing
// usable is cached: DirectoryError (tempfail) or the tenant's defaults. Logins are never cached.
import { DirectoryError, type Directory } from "./directory.ts";
import type { CacheConfig } from "./ldap/config.ts";
import type { User } from "../message/types.ts";

export interface CachedDirectoryOptions {
  cache: CacheConfig;
  onUnavailable: "tempfail" | "defaults";
  /** Tenant id of an address (for tenant defaults), null when no tenant owns it. */
  tenantOf: (address: string) => string | null;
  /** Called when a stale entry or tenant defaults stood in for the directory. */
  onFallback?: (address: string, kind: "stale" | "defaults", err: DirectoryError) => void;
  now?: () => number;
}

interface Slot {
  user: User | null;
  /** ms epoch after which the directory is asked again. */
  freshUntil: number;
  /** ms epoch until which a found user may stand in while the directory is down. */
  staleUntil: number;
}

export interface CacheStats {
  hits: number;
  misses: number;
  stale: number;
  defaults: number;
  size: number;
}

export class CachedDirectory implements Directory {
  readonly inner: Directory;
  private readonly opts: CachedDirectoryOptions;
  private readonly slots = new Map<string, Slot>();
  private readonly inflight = new Map<string, Promise<User | null>>();
  private readonly now: () => number;
  private readonly counts = { hits: 0, misses: 0, stale: 0, defaults: 0 };
  /** Bumped by flush so a lookup that started before it does not refill the cache. */
  private generation = 0;
  /** After a failure, misses skip the directory until then: no queue of sessions each waiting
   * timeout_ms on a dead server, and no reconnect storm against a struggling one. */
  private downUntil = 0;

  constructor(inner: Directory, opts: CachedDirectoryOptions) {
    this.inner = inner;
    this.opts = opts;
    this.now = opts.now ?? Date.now;
  }

  async lookup(address: string): Promise<User | null> {
    const key = address.toLowerCase();
    const slot = this.slots.get(key);
    const now = this.now();
    if (slot && now < slot.freshUntil) {
      this.counts.hits++;
      // Re-insert: Map order is recency order, the oldest is evicted first.
      this.slots.delete(key);
      this.slots.set(key, slot);
      return slot.user;
    }
    this.counts.misses++;
    // One directory query per address at a time, however many sessions ask.
    const running = this.inflight.get(key);
    if (running) return running;
    const p: Promise<User | null> = this.fetch(key).finally(() => {
      if (this.inflight.get(key) === p) this.inflight.delete(key);
    });
    this.inflight.set(key, p);
    return p;
  }

  private async fetch(key: string): Promise<User | null> {
    const gen = this.generation;
    try {
      if (this.now() < this.downUntil) {
        throw new DirectoryError(`directory failed recently; next try in ${this.downUntil - this.now()} ms`);
      }
      const user = await this.inner.lookup(key);
      this.downUntil = 0;
      if (gen === this.generation) this.store(key, user);
      return user;
    } catch (err) {
      if (!(err instanceof DirectoryError)) throw err;
      // A failed probe (re)opens the window; failures inside it do not stretch it.
      if (this.now() >= this.downUntil) this.downUntil = this.now() + this.opts.cache.down_retry_s * 1000;
      const slot = this.slots.get(key);
      // Only a found user is served stale: a stale "unknown" would bounce mail permanently.
      if (slot?.user && this.now() < slot.staleUntil) {
        this.counts.stale++;
        this.opts.onFallback?.(key, "stale", err);
        return slot.user;
      }
      const tenant = this.opts.onUnavailable === "defaults" ? this.opts.tenantOf(key) : null;
      if (tenant === null) throw err;
      this.counts.defaults++;
      this.opts.onFallback?.(key, "defaults", err);
      return tenantDefaults(key, tenant);
    }
  }

  private store(key: string, user: User | null): void {
    const now = this.now();
    const { ttl_s, negative_ttl_s, stale_s, max_entries } = this.opts.cache;
    const ttl = (user ? ttl_s : negative_ttl_s) * 1000;
    if (ttl <= 0 && !(user && stale_s > 0)) return;
    this.slots.delete(key);
    this.slots.set(key, { user, freshUntil: now + ttl, staleUntil: now + ttl + (user ? stale_s * 1000 : 0) });
    while (this.slots.size > max_entries) {
      const oldest = this.slots.keys().next().value as string;
      this.slots.delete(oldest);
    }
  }

  /** Logins always go to the directory: a cached "yes" would outlive a password change. */
  authenticate(login: string, secret: string): Promise<User | null> {
    return this.inner.authenticate(login, secret);
  }

  /** Forget one address (any of a user's addresses forgets all of them) or everything. */
  flush(address?: string): number {
    this.generation++;
    this.inflight.clear();
    if (address === undefined) {
      const n = this.slots.size;
      this.slots.clear();
      return n;
    }
    const a = address.toLowerCase();
    let n = 0;
    for (const [k, s] of this.slots) {
      if (k === a || s.user?.address === a || s.user?.aliases.includes(a)) {
        this.slots.delete(k);
        n++;
      }
    }
    return n;
  }

  stats(): CacheStats {
    return { ...this.counts, size: this.slots.size };
  }

  async close(): Promise<void> {
    await (this.inner as { close?: () => Promise<void> }).close?.();
  }
}

/** A stand-in user with no settings of their own: the tenant's policy applies unchanged. */
export function tenantDefaults(address: string, tenant: string): User {
  return {
    id: address,
    tenant,
    address,
    aliases: [],
    language: null,
    spamFilter: null,
    thresholds: {},
    whitelist: [],
    blacklist: [],
    sendAs: [],
  };
}
