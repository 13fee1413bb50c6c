// Users' own settings over the directory: a user of the configuration file or of LDAP who
// switches the spam filter, the notice language or a white/blacklist in the portal gets a row
// in the store (UserOverrideStore), laid over the directory's answer field by field. Precedence:
// the user's own override, else the directory's value (LDAP attribute or tenants[].users), else
// the policy's default — except where the policy locks a setting (policy.self_service), where
// the override is ignored. The directory itself is never written (see src/policy/README.md).
import type { Config, PolicySpec, TenantConfig } from "../config/schema.ts";
import type { UserOverride, UserOverrideStore } from "../store/types.ts";
import type { Directory } from "./directory.ts";
import type { User } from "../message/types.ts";

/** What users may change for themselves (false: locked by the policy). */
export interface SelfService {
  spamFilter: boolean;
  language: boolean;
  lists: boolean;
}

/** The self-service settings in force for a tenant's users: global → role → tenant, default all true. */
export function selfServiceOf(config: Config, tenant: TenantConfig | null | undefined): SelfService {
  const role = config.roles[config.node.role]?.policy;
  const layers: (PolicySpec | undefined)[] = [config.policy, role, tenant?.policy];
  const out: SelfService = { spamFilter: true, language: true, lists: true };
  for (const l of layers) {
    const s = l?.self_service;
    if (s?.spam_filter !== undefined) out.spamFilter = s.spam_filter;
    if (s?.language !== undefined) out.language = s.language;
    if (s?.lists !== undefined) out.lists = s.lists;
  }
  return out;
}

/** The user as the directory says, with their own override laid over it where allowed. */
export function applyOverride(u: User, o: UserOverride | null, s: SelfService): User {
  if (!o) return u;
  return {
    ...u,
    spamFilter: s.spamFilter && o.spamFilter !== null ? o.spamFilter : u.spamFilter,
    language: s.language && o.language !== null ? o.language : u.language,
    whitelist: s.lists && o.whitelist !== null ? o.whitelist : u.whitelist,
    blacklist: s.lists && o.blacklist !== null ? o.blacklist : u.blacklist,
  };
}

export class OverrideDirectory implements Directory {
  readonly inner: Directory;
  private readonly store: UserOverrideStore;
  private readonly selfService: (tenant: string) => SelfService;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, { at: number; o: UserOverride | null }>();
  /** After a store error, overrides are not asked for one TTL (a store that is down costs nothing). */
  private downUntil = 0;

  /**
   * Overrides are read once per `ttlMs` per address (default 5 s): a change made on this node
   * shows at once (forget), one made on another node within the TTL.
   */
  constructor(
    inner: Directory,
    store: UserOverrideStore,
    selfService: (tenant: string) => SelfService,
    opts: { ttlMs?: number; now?: () => number } = {},
  ) {
    this.inner = inner;
    this.store = store;
    this.selfService = selfService;
    this.ttlMs = opts.ttlMs ?? 5_000;
    this.now = opts.now ?? Date.now;
  }

  /** The user's override (cached), or null. */
  async override(address: string): Promise<UserOverride | null> {
    const a = address.toLowerCase();
    const hit = this.cache.get(a);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.o;
    if (this.now() < this.downUntil) return null;
    let o: UserOverride | null;
    try {
      o = await this.store.getUserOverride(a);
    } catch (err) {
      this.downUntil = this.now() + this.ttlMs;
      throw err;
    }
    if (this.cache.size > 50_000) this.cache.clear();
    this.cache.set(a, { at: this.now(), o });
    return o;
  }

  async lookup(address: string): Promise<User | null> {
    const u = await this.inner.lookup(address);
    if (!u) return null;
    // An unreadable store must not make the directory look down: the directory's answer stands.
    const o = await this.override(u.address).catch(() => null);
    return applyOverride(u, o, this.selfService(u.tenant));
  }

  async authenticate(login: string, secret: string): Promise<User | null> {
    const u = await this.inner.authenticate(login, secret);
    if (!u) return null;
    const o = await this.override(u.address).catch(() => null);
    return applyOverride(u, o, this.selfService(u.tenant));
  }

  /** Forget cached overrides (and the inner directory's cache, when it has one). */
  flush(address?: string): number {
    if (address) this.cache.delete(address.toLowerCase());
    else this.cache.clear();
    const inner = this.inner as Partial<{ flush(a?: string): number }>;
    return typeof inner.flush === "function" ? inner.flush(address) : 0;
  }

  /** Whether there is a cache below this one to flush (LDAP). */
  get cached(): boolean {
    return typeof (this.inner as Partial<{ flush: unknown }>).flush === "function";
  }
}
