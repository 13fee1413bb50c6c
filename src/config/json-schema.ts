// The configuration as a JSON Schema, generated from the zod schema (schema.ts) so editors can
// complete and check sluice.yaml (yaml-language-server, VS Code, IntelliJ). The committed copy,
// schema/sluice-config.schema.json, is rewritten by `sluice config schema --out …`; a test keeps
// it current. Filter options stay open objects here: each filter checks its own at load.
import { z } from "zod";
import { configSchema } from "./schema.ts";

/**
 * One line per top-level section: the schema's descriptions, `sluice config explain` and the
 * example file say the same. The type makes a new section without a line a compile error.
 */
export const SECTION_HELP = {
  node: "this node: name (logs, heartbeats), role (which cluster revision it runs), link secret, state folder",
  store:
    "where quarantine, hold queue, message log, accounts and cluster state live: sqlite:PATH or postgres://URL",
  secrets: "node-local secrets never published with the cluster configuration (the key sealing DKIM keys)",
  log: "log level of the JSON log (pino) on standard output",
  web: "console, API, /healthz, /livez and /metrics: listener, host names, TLS, trusted proxies",
  spool: "where messages in flight are kept: memory up to a size, then files in this folder",
  limits: "message size, header size, line length and NUL bytes, for the proxy, the milter and scan alike",
  delivery: "the default next hop: smtp://HOST:PORT, lmtp://HOST:PORT or maildir:PATH",
  smtp: "the SMTP proxy: host name, TLS, the inbound/submission/submissions listeners, limits, AUTH throttling",
  milter: "the milter server for Postfix and Sendmail: sockets, quarantine mode, re-injection",
  policy: "the global policy layer: thresholds, filters and their options, scores, lists, tagging",
  roles: "policy layers per node role (applied after the global one, before the tenant's)",
  tenants:
    "tenants (ISP or company): domains, next hops, policy layer, quarantine, hold queue, built-in users",
  directory: "where users come from: the built-in store (default) or LDAP",
} satisfies Record<keyof z.input<typeof configSchema>, string>;

export function configJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(configSchema, {
    // What a person writes (defaults optional), not what the loader produces.
    io: "input",
    // Refinements (templates, CIDR checks) cannot be expressed: the loader still runs them.
    unrepresentable: "any",
    target: "draft-2020-12",
  }) as Record<string, unknown> & { properties: Record<string, Record<string, unknown>> };
  for (const [key, text] of Object.entries(SECTION_HELP)) {
    if (generated.properties[key]) generated.properties[key].description = text;
  }
  return {
    $schema: generated.$schema,
    title: "Sluice configuration (sluice.yaml)",
    description: "Generated from src/config/schema.ts by `sluice config schema`; see examples/sluice.yaml.",
    ...Object.fromEntries(Object.entries(generated).filter(([k]) => k !== "$schema")),
  };
}

/** The text of schema/sluice-config.schema.json. */
export function configJsonSchemaText(): string {
  return JSON.stringify(configJsonSchema(), null, 2) + "\n";
}
