// The connection-level defences this build gives the registry: DNS block/allow lists of the
// client (dnsbl), URI lists of the body (uribl), greylisting and rate limits. Pregreet (a client
// talking before the greeting) is the SMTP listener's own: it needs the socket (src/smtp/).
import type { Registry } from "prom-client";
import type { Filter } from "../../pipeline/types.ts";
import type { GreylistStore, RateCounterStore } from "../../store/types.ts";
import { createDnsblFilter } from "./dnsbl-filter.ts";
import { createGreylistFilter } from "./greylist-filter.ts";
import { listMetrics } from "./lookup.ts";
import { defenceMetrics } from "./metrics.ts";
import { createRatelimitFilter, type RatelimitDeps } from "./ratelimit-filter.ts";
import { createUriblFilter } from "./uribl-filter.ts";

export interface ReputationDeps extends Pick<RatelimitDeps, "senderUser" | "senderSide" | "notifier"> {
  registry?: Registry;
  /** The node's store (greylisting and rate counters); a function because it opens later. */
  store?: () => (GreylistStore & RateCounterStore) | null;
}

export function reputationFilters(deps: ReputationDeps = {}): Filter[] {
  const lists = listMetrics(deps.registry);
  const metrics = defenceMetrics(deps.registry);
  return [
    createDnsblFilter({ metrics: lists }),
    createUriblFilter({ metrics: lists }),
    createGreylistFilter({ store: deps.store, metrics }),
    createRatelimitFilter({
      store: deps.store,
      metrics,
      senderUser: deps.senderUser,
      senderSide: deps.senderSide,
      notifier: deps.notifier,
    }),
  ];
}

export { createDnsblFilter, resultFor as dnsblResult, type DnsblDeps } from "./dnsbl-filter.ts";
export { createUriblFilter, type UriblDeps } from "./uribl-filter.ts";
export { createGreylistFilter, greylistSender, type GreylistDeps } from "./greylist-filter.ts";
export {
  createRatelimitFilter,
  slidingCount,
  type RatelimitDeps,
  type SenderSide,
} from "./ratelimit-filter.ts";
export { parseIp, reverseName, networkOf, NetworkList, type ParsedIp } from "./ip.ts";
export { meaningOf, txtReason, compileCode } from "./zone-answer.ts";
export { urlNames, nameOf } from "./url-domains.ts";
export { listMetrics, type ListMetrics } from "./lookup.ts";
export { defenceMetrics, type DefenceMetrics } from "./metrics.ts";
