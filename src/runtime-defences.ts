// Wiring of the connection-level defences (src/filters/reputation/) into a node: the store for
// greylisting and rate counters, the sender's tenant and directory entry for per-user limits, and
// a next-hop sender for admin notices. Part of the composition root (runtime.ts), kept apart so
// the filters never see the runtime.
import type { Config } from "./config/schema.ts";
import { NextHopNotificationSender } from "./delivery/nexthop/notification-sender.ts";
import { Routes } from "./delivery/nexthop/route.ts";
import type { ReputationDeps } from "./filters/reputation/index.ts";
import type { RatelimitOptions } from "./filters/reputation/options.ts";
import type { NotificationSender } from "./notify/index.ts";
import type { Directory } from "./policy/directory.ts";
import type { PolicyResolver } from "./policy/resolve.ts";
import type { Store } from "./store/types.ts";

/** What the defences need of a node, once it exists. */
export interface DefenceHost {
  readonly config: Config;
  readonly resolver: PolicyResolver;
  readonly directory: Directory;
  readonly store: Store | null;
}

export function defenceDeps(host: () => DefenceHost | null): Omit<ReputationDeps, "registry"> {
  let notices: NotificationSender | null = null;
  return {
    store: () => host()?.store ?? null,
    senderUser: async (login) => {
      const h = host();
      // A login that is not an address (an LDAP uid) has no entry to look up by address.
      return h && login.includes("@") ? h.directory.lookup(login) : null;
    },
    senderSide: (env) => {
      const h = host();
      const tenant = h?.resolver.senderTenant(env);
      if (!h || !tenant) return null;
      const s = h.resolver.tenantPolicy(tenant).filters.ratelimit;
      if (!s?.enabled) return null;
      return { options: s.options as RatelimitOptions, tenant: tenant.id, domain: tenant.domains[0]! };
    },
    notifier: () => {
      const h = host();
      if (!h) return null;
      const smtp = h.config.smtp;
      notices ??= new NextHopNotificationSender(
        new Routes(smtp.hostname, smtp.limits.next_hop_timeout_s * 1000),
        (a) => host()!.resolver.routeFor(a),
      );
      return notices;
    },
  };
}
