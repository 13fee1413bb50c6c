// Starts the cluster agent for `sluice serve` when the node's store is PostgreSQL (a cluster);
// a single node on SQLite runs its local file only. The local file is re-read on each apply.
import { readFile } from "node:fs/promises";
import type { Runtime } from "../runtime.ts";
import { QUICKSTART_YAML } from "../config/quickstart.ts";
import { ClusterAgent } from "./agent.ts";
import { nodeIdentity } from "./identity.ts";

export async function startClusterAgent(runtime: Runtime, configPath?: string): Promise<ClusterAgent | null> {
  if (!runtime.store || !/^postgres(ql)?:\/\//.test(runtime.config.store)) return null;
  const agent = new ClusterAgent({
    runtime,
    store: runtime.store,
    identity: nodeIdentity(runtime.config),
    localText: () => (configPath ? readFile(configPath, "utf8") : QUICKSTART_YAML),
    log: runtime.log.child({ component: "cluster" }),
  });
  await agent.start();
  return agent;
}
