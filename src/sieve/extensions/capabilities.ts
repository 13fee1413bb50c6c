// Extensions that only unlock tags or comparators handled elsewhere (copy, relational, regex, subaddress,
// index, comparators, encoded-character). Not behaviour: see spec.ts tag lists and validator.ts.

import type { Extension } from "../spec.ts";

export const capabilityOnlyExtension: Extension = {
  capabilities: [
    "copy",
    "relational",
    "regex",
    "subaddress",
    "index",
    "encoded-character",
    "comparator-i;octet",
    "comparator-i;ascii-casemap",
    "comparator-i;ascii-numeric",
  ],
  commands: [],
  tests: [],
};
