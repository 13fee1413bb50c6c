// Who this node is in the cluster: its name (unique, default the host name) and its role (the
// server group whose configuration revisions it runs). Local settings only, never published:
// the environment (SLUICE_NODE_NAME / SLUICE_NODE_ROLE) wins over the file's `node:` section.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { resolve } from "node:path";
import type { Config } from "../config/schema.ts";

export interface NodeIdentity {
  name: string;
  role: string;
}

export function nodeIdentity(config: Config, env: NodeJS.ProcessEnv = process.env): NodeIdentity {
  return {
    name: env.SLUICE_NODE_NAME || config.node.name || hostname(),
    role: env.SLUICE_NODE_ROLE || config.node.role,
  };
}

let version: string | null = null;

/** The running Sluice version (package.json), reported in heartbeats. */
export function sluiceVersion(): string {
  version ??= (
    JSON.parse(readFileSync(resolve(import.meta.dirname, "../../package.json"), "utf8")) as {
      version: string;
    }
  ).version;
  return version;
}
