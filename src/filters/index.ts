// The filters built into this build, in one list: the registry is made from it.
import type { Registry } from "prom-client";
import type { Filter } from "../pipeline/types.ts";
import { sizeFilter } from "./size/size.ts";
import { headerSanityFilter } from "./header-sanity/header-sanity.ts";
import { listsFilter } from "./lists/lists.ts";
import { authFilters, type KeySource } from "./auth/index.ts";
import { spamFilters, type SpamLearning } from "./spam/index.ts";
import { virusFilters } from "./virus/index.ts";
import { sieveFilter } from "./sieve/sieve-filter.ts";
import { holdOptionsFilter } from "./outbound/hold-options.ts";
import { reputationFilters, type ReputationDeps } from "./reputation/index.ts";

export interface BuiltinDeps {
  /** The node's metrics registry (absent: a private one per filter). */
  registry?: Registry;
  /** DKIM/ARC keys in the store; a function because the store opens after the filters exist. */
  keys?: () => KeySource | null;
  /** The spam classifier's lesson service; a function for the same reason as `keys`. */
  spamLearning?: () => SpamLearning | null;
  tenantOf?: (address: string) => string | null;
  /** Greylisting and rate limits: the store, the sender's side of outbound mail, admin notices. */
  reputation?: Omit<ReputationDeps, "registry">;
}

export function builtinFilters(deps: BuiltinDeps = {}): Filter[] {
  const { registry } = deps;
  return [
    sizeFilter,
    headerSanityFilter,
    listsFilter,
    ...authFilters({ keys: deps.keys, tenantOf: deps.tenantOf }),
    ...virusFilters({ registry }),
    ...spamFilters(deps.spamLearning),
    sieveFilter,
    holdOptionsFilter,
    ...reputationFilters({ registry, ...deps.reputation }),
  ];
}
