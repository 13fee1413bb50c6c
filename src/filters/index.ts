// The filters built into this build, in one list: the registry is made from it.
import type { Registry } from "prom-client";
import type { Filter } from "../pipeline/types.ts";
import { sizeFilter } from "./size/size.ts";
import { headerSanityFilter } from "./header-sanity/header-sanity.ts";
import { listsFilter } from "./lists/lists.ts";
import { authFilters } from "./auth/index.ts";
import { spamFilters } from "./spam/index.ts";
import { virusFilters } from "./virus/index.ts";
import { sieveFilter } from "./sieve/sieve-filter.ts";
import { holdOptionsFilter } from "../quarantine/hold-options.ts";

/** Filters that keep metrics register them on the node's registry (absent: a private one). */
export function builtinFilters(registry?: Registry): Filter[] {
  return [
    sizeFilter,
    headerSanityFilter,
    listsFilter,
    ...authFilters(),
    ...virusFilters({ registry }),
    ...spamFilters(),
    sieveFilter,
    holdOptionsFilter,
  ];
}
