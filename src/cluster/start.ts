// Starts the cluster agent for `sluice serve` when the node's store is PostgreSQL (a cluster);
// a single node on SQLite runs its local file only. The local file is re-read on each apply.
// Front ends should take `frontRuntime(...)` so shadow runs see the node's traffic.
import { readFile } from "node:fs/promises";
import type { Runtime } from "../runtime.ts";
import { QUICKSTART_YAML } from "../config/quickstart.ts";
import { ClusterAgent } from "./agent.ts";
import { nodeIdentity } from "./identity.ts";
import { revisionCachePath } from "./revision-cache.ts";
import { ShadowEvaluator, shadowedRuntime } from "./shadow.ts";

export async function startClusterAgent(runtime: Runtime, configPath?: string): Promise<ClusterAgent | null> {
  if (!runtime.store || !/^postgres(ql)?:\/\//.test(runtime.config.store)) return null;
  const identity = nodeIdentity(runtime.config);
  const log = runtime.log.child({ component: "cluster" });
  const agent = new ClusterAgent({
    runtime,
    store: runtime.store,
    identity,
    shadow: new ShadowEvaluator({ store: runtime.store, nodeName: identity.name, log }),
    localText: () => (configPath ? readFile(configPath, "utf8") : QUICKSTART_YAML),
    log,
    cachePath: revisionCachePath(runtime.config, identity.role),
  });
  await agent.start();
  return agent;
}

/** What the listeners should be given: the runtime, tapped for shadow evaluation on a cluster. */
export function frontRuntime(runtime: Runtime, agent: ClusterAgent | null): Runtime {
  return agent?.shadow ? shadowedRuntime(runtime, agent.shadow) : runtime;
}
