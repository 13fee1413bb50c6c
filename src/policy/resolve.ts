// Policy resolution: the effective policy of one recipient, merged global → role →
// tenant (found by the recipient's domain) → user (from the directory). Pure merging:
// the directory call is the only I/O, and its failure propagates as DirectoryError.
import type { Config, PolicySpec, TenantConfig } from "../config/schema.ts";
import type { Filter } from "../pipeline/types.ts";
import { domainOf, type Envelope } from "../message/envelope.ts";
import type { Directory } from "./directory.ts";
import type { FilterSettings, RecipientPolicy } from "./types.ts";
import type { Thresholds, User } from "../message/types.ts";

const DEFAULT_TIMEOUT_MS = 30_000;

export class PolicyResolver {
  private readonly config: Config;
  private readonly filters: readonly Filter[];
  private readonly directory: Directory;
  private readonly tenantByDomain = new Map<string, TenantConfig>();
  private readonly bases = new Map<string, Base>();

  constructor(config: Config, filters: readonly Filter[], directory: Directory) {
    this.config = config;
    this.filters = filters;
    this.directory = directory;
    for (const t of config.tenants) for (const d of t.domains) this.tenantByDomain.set(d, t);
  }

  tenantFor(address: string): TenantConfig | null {
    return this.tenantByDomain.get(domainOf(address)) ?? null;
  }

  /** The delivery target of a recipient: its domain's route, its tenant's, else the node's. */
  routeFor(address: string): string {
    const t = this.tenantFor(address);
    return t?.routes[domainOf(address)] ?? t?.delivery ?? this.config.delivery;
  }

  /** The tenant of an authenticated sender (outbound mail): its login's domain, else MAIL FROM's. */
  senderTenant(env: Envelope): TenantConfig | null {
    if (!env.auth) return null;
    return (
      (env.auth.includes("@") ? this.tenantFor(env.auth) : null) ??
      this.tenantFor(env.mailFrom?.address ?? "")
    );
  }

  /**
   * The one tenant a stored copy for this recipient belongs to. Quarantine and the message
   * log: the recipient's tenant (an outside recipient of outbound mail: the sender's). A hold
   * of authenticated mail is the sender's tenant's policy at work, so it is the sender's.
   */
  ownerOf(recipient: string, env: Envelope, kind: "stored" | "hold" = "stored"): string | null {
    const sender = this.senderTenant(env);
    if (kind === "hold" && sender) return sender.id;
    return (this.tenantFor(recipient) ?? sender)?.id ?? null;
  }

  isLocal(address: string): boolean {
    return this.tenantByDomain.has(domainOf(address));
  }

  /** The policy in force before any recipient is known (connect, helo, mail stages). */
  connectionPolicy(): RecipientPolicy {
    return this.build("", null, null);
  }

  /** A tenant's policy with no user in particular (outbound mail: the sender's tenant's limits). */
  tenantPolicy(tenant: TenantConfig | null): RecipientPolicy {
    return this.build("", tenant, null);
  }

  /** A recipient's effective policy. Throws DirectoryError when the directory cannot answer. */
  async forRecipient(address: string): Promise<RecipientPolicy> {
    const tenant = this.tenantFor(address);
    const user = tenant ? await this.directory.lookup(address) : null;
    return this.build(address.toLowerCase(), tenant, user);
  }

  private layers(tenant: TenantConfig | null): PolicySpec[] {
    const role = this.config.roles[this.config.node.role]?.policy;
    return [this.config.policy, ...(role ? [role] : []), ...(tenant?.policy ? [tenant.policy] : [])];
  }

  /** Tenant-level settings (filter options parsed once per configuration, not per message). */
  private base(tenant: TenantConfig | null): Base {
    const key = tenant?.id ?? "";
    let b = this.bases.get(key);
    if (b) return b;
    const layers = this.layers(tenant);
    const pick = <T>(get: (p: PolicySpec) => T | undefined, fallback: T): T => {
      let v = fallback;
      for (const l of layers) {
        const x = get(l);
        if (x !== undefined) v = x;
      }
      return v;
    };
    const onError = pick((p) => p.on_error, "tempfail" as const);
    const filters: Base["filters"] = {};
    for (const f of this.filters) {
      filters[f.name] = {
        group: f.group,
        enabled: pick((p) => p.filters?.[f.name]?.enabled, f.enabledByDefault),
        priority: pick((p) => p.filters?.[f.name]?.priority, f.priority),
        timeoutMs: pick((p) => p.filters?.[f.name]?.timeout_ms, DEFAULT_TIMEOUT_MS),
        onError: pick((p) => p.filters?.[f.name]?.on_error, onError),
        options: f.parseOptions(mergeOptions(layers.map((l) => l.filters?.[f.name]?.options))),
      };
    }
    const scores: Record<string, number> = {};
    for (const l of layers) Object.assign(scores, l.scores ?? {});
    b = {
      thresholds: {
        tag: pick((p) => p.thresholds?.tag, 5 as number | null),
        quarantine: pick((p) => p.thresholds?.quarantine, 10 as number | null),
        reject: pick((p) => p.thresholds?.reject, null as number | null),
      },
      spamOn: pick((p) => p.spam_filter, true),
      filters,
      scores,
      maxEntries: pick((p) => p.lists?.max_entries, 20),
      blacklistAction: pick((p) => p.lists?.blacklist_action, "reject" as const),
      tag: {
        subjectPrefix: pick((p) => p.tag?.subject_prefix, "[SPAM] "),
        headers: pick((p) => p.tag?.headers, true),
      },
    };
    this.bases.set(key, b);
    return b;
  }

  private build(address: string, tenant: TenantConfig | null, user: User | null): RecipientPolicy {
    const b = this.base(tenant);
    const thresholds: Thresholds = { ...b.thresholds };
    if (user) Object.assign(thresholds, stripUndefined(user.thresholds));
    // A user who prefers no quarantine gets spam tagged and delivered instead.
    if (user?.quarantine === false) thresholds.quarantine = null;
    const spamOn = user?.spamFilter ?? b.spamOn;
    const filters: Record<string, FilterSettings> = {};
    for (const [name, f] of Object.entries(b.filters)) {
      let offReason: string | null = f.enabled ? null : "disabled by policy";
      if (f.enabled && f.group === "spam" && !spamOn) {
        offReason =
          user?.spamFilter === false ? "spam filter OFF for this user" : "spam filter OFF by policy";
      }
      filters[name] = {
        enabled: offReason === null,
        offReason,
        priority: f.priority,
        timeoutMs: f.timeoutMs,
        onError: f.onError,
        options: f.options,
      };
    }
    return {
      address,
      tenant,
      user,
      language: user?.language ?? tenant?.language ?? "en",
      splitMixed: tenant?.split_mixed_policies ?? "fanout",
      thresholds,
      filters,
      scores: b.scores,
      lists: {
        whitelist: user?.whitelist ?? [],
        blacklist: user?.blacklist ?? [],
        maxEntries: b.maxEntries,
        blacklistAction: b.blacklistAction,
      },
      tag: b.tag,
    };
  }
}

interface Base {
  thresholds: Thresholds;
  spamOn: boolean;
  filters: Record<string, Omit<FilterSettings, "offReason"> & { group: string }>;
  scores: Record<string, number>;
  maxEntries: number;
  blacklistAction: "reject" | "quarantine";
  tag: { subjectPrefix: string; headers: boolean };
}

function mergeOptions(parts: (Record<string, unknown> | undefined)[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of parts) if (p) Object.assign(out, p);
  return out;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Which filters a recipient's policy runs: recipients with the same fingerprint can share
 * one scan without anyone's mail being scanned against their choice (defer mode).
 */
export function scanFingerprint(p: RecipientPolicy): string {
  return Object.entries(p.filters)
    .filter(([, s]) => s.enabled)
    .map(([n]) => n)
    .sort()
    .join(",");
}
