// What a published configuration revision may contain and how a node combines it with its
// own file. A revision carries the cluster sections only (policy, roles, tenants, directory,
// limits); identity, store, listeners, next hop (delivery) and logging stay in each node's file.
import { parse, parseDocument, stringify } from "yaml";
import { ConfigError, type ConfigIssue } from "../config/errors.ts";
import { parseConfig, type FilterCatalog } from "../config/load.ts";
import type { Config } from "../config/schema.ts";

/** Top-level keys a revision sets for every node of its role. */
export const CLUSTER_KEYS = ["policy", "roles", "tenants", "directory", "limits"] as const;
/** Top-level keys that belong to one node and are refused in a revision. */
export const NODE_KEYS = ["node", "store", "log", "web", "spool", "delivery", "smtp", "milter"] as const;

/**
 * Validate a revision completely before it may be stored: YAML, only cluster sections, and the
 * whole configuration check (schema, cross-checks, filter options, Sieve compile).
 */
export function validateRevision(text: string, label: string, catalog: FilterCatalog): Config {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (!doc.errors.length) {
    const raw: unknown = doc.toJS();
    if (raw !== null && raw !== undefined && (typeof raw !== "object" || Array.isArray(raw))) {
      throw new ConfigError([{ file: label, line: 1, path: "", message: "a revision is a YAML mapping" }]);
    }
    const issues: ConfigIssue[] = Object.keys((raw ?? {}) as object)
      .filter((k) => (NODE_KEYS as readonly string[]).includes(k))
      .map((k) => ({
        file: label,
        line: null,
        path: k,
        message: "node-local setting: set it in each node's own file, not in a published revision",
      }));
    if (issues.length) throw new ConfigError(issues);
  }
  return parseConfig(text, label, catalog);
}

/** The node's local file with the revision's cluster sections in place of its own. */
export function composeConfig(localText: string, revisionText: string): string {
  const local = (parse(localText) ?? {}) as Record<string, unknown>;
  const revision = (parse(revisionText) ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(local)) {
    if (!(CLUSTER_KEYS as readonly string[]).includes(k)) out[k] = v;
  }
  for (const [k, v] of Object.entries(revision)) {
    if ((CLUSTER_KEYS as readonly string[]).includes(k)) out[k] = v;
  }
  return stringify(out);
}
