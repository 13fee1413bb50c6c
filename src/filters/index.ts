// The filters built into this build, in one list: the registry is made from it.
import type { Filter } from "../pipeline/types.ts";
import { sizeFilter } from "./size/size.ts";
import { headerSanityFilter } from "./header-sanity/header-sanity.ts";
import { listsFilter } from "./lists/lists.ts";
import { authFilters } from "./auth/index.ts";
import { spamFilters } from "./spam/index.ts";

export function builtinFilters(): Filter[] {
  return [sizeFilter, headerSanityFilter, listsFilter, ...authFilters(), ...spamFilters()];
}
