// `sluice config publish FILE --role ROLE`, `sluice config history`, `sluice config rollback REV`:
// talk to the cluster's store directly (its URL from --store or the node file's `store:`),
// validating with this build's filters exactly as the API does. Nodes apply on their own.
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { FilterRegistry } from "../pipeline/registry.ts";
import { builtinFilters } from "../filters/index.ts";
import { loadConfigFile } from "../config/load.ts";
import { openStore } from "../store/open.ts";
import type { Store } from "../store/types.ts";
import { ClusterError, formatHistory, publishRevision, rollbackTo } from "./publish.ts";
import { userInfo } from "node:os";

interface StoreOpts {
  config?: string;
  store?: string;
}

async function withStore<T>(o: StoreOpts, fn: (s: Store, catalog: FilterRegistry) => Promise<T>): Promise<T> {
  const catalog = new FilterRegistry(builtinFilters());
  const url =
    o.store ?? (o.config ? (await loadConfigFile(o.config, catalog)).store : process.env.SLUICE_STORE);
  if (!url) throw new ClusterError("say which cluster: --store postgres://… or -c node.yaml (its store:)");
  const store = await openStore(url);
  try {
    return await fn(store, catalog);
  } finally {
    await store.close();
  }
}

const author = () => process.env.SLUICE_AUTHOR ?? userInfo().username;

export function registerClusterCommands(config: Command): void {
  const common = (c: Command) =>
    c
      .option("-c, --config <file>", "a node's configuration file (for its store: URL)")
      .option("--store <url>", "the cluster store URL (postgres://…); default $SLUICE_STORE");
  common(
    config
      .command("publish")
      .description(
        "validate a cluster configuration (policy, roles, tenants, directory, limits) and publish it",
      )
      .argument("<file>", "YAML with the cluster sections only")
      .requiredOption("--role <role>", "the server group whose nodes apply it (e.g. mx, submission)")
      .option("--note <text>", "why (shown in history)"),
  ).action(async (file: string, o: StoreOpts & { role: string; note?: string }) => {
    const text = await readFile(file, "utf8");
    const r = await withStore(o, (s, catalog) =>
      publishRevision(s, catalog, { role: o.role, text, author: author(), note: o.note ?? null }),
    );
    process.stdout.write(`published revision ${r.rev} for role ${r.role}\n`);
  });
  common(
    config
      .command("history")
      .description("published revisions (newest first) and what every node runs")
      .option("--role <role>", "only this role")
      .option("--limit <n>", "how many revisions", "20"),
  ).action(async (o: StoreOpts & { role?: string; limit: string }) => {
    const out = await withStore(o, async (s) =>
      formatHistory(
        await s.listConfigRevisions({ role: o.role, limit: Number(o.limit) || 20 }),
        await s.listHeartbeats(),
      ),
    );
    process.stdout.write(out);
  });
  common(
    config
      .command("rollback")
      .description("publish an earlier revision again (as the newest of its role)")
      .argument("<rev>", "revision number"),
  ).action(async (rev: string, o: StoreOpts) => {
    if (!/^\d+$/.test(rev)) throw new ClusterError(`revision must be a number, got "${rev}"`);
    const r = await withStore(o, (s, catalog) => rollbackTo(s, catalog, Number(rev), author()));
    process.stdout.write(`published revision ${r.rev} for role ${r.role} (rollback to ${rev})\n`);
  });
}
