// `sluice config publish FILE --role ROLE`, `history`, `rollback REV`, `shadow start|list|report|publish|discard`:
// talk to the cluster's store directly (its URL from --store or the node file's `store:`),
// validating with this build's filters exactly as the API does. Nodes apply on their own.
// Whoever can open the store is trusted: the author is --author, $SLUICE_AUTHOR or the login
// name, and every change is written to the audit log as cli:AUTHOR.
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { FilterRegistry } from "../pipeline/registry.ts";
import { builtinFilters } from "../filters/index.ts";
import { loadConfigFile } from "../config/load.ts";
import { openStore } from "../store/open.ts";
import { withStoreFaults } from "../store/fault-store.ts";
import { StoreError, type Store } from "../store/types.ts";
import {
  ClusterError,
  discardShadow,
  formatHistory,
  formatShadowReport,
  publishRevision,
  publishShadow,
  rollbackTo,
  startShadowRun,
} from "./publish.ts";
import { userInfo } from "node:os";

interface StoreOpts {
  config?: string;
  store?: string;
  author?: string;
}

async function withStore<T>(o: StoreOpts, fn: (s: Store, catalog: FilterRegistry) => Promise<T>): Promise<T> {
  const catalog = new FilterRegistry(builtinFilters());
  const url =
    o.store ?? (o.config ? (await loadConfigFile(o.config, catalog)).store : process.env.SLUICE_STORE);
  if (!url) throw new ClusterError("say which cluster: --store postgres://… or -c node.yaml (its store:)");
  let store: Store | null = null;
  try {
    store = withStoreFaults(await openStore(url)); // crash points for tests only (src/fault.ts)
    return await fn(store, catalog);
  } catch (err) {
    // An unreachable or refusing database is the operator's to fix: one line, exit 2.
    if (err instanceof StoreError) throw new ClusterError(`cluster store: ${err.message}`);
    throw err;
  } finally {
    await store?.close();
  }
}

const authorOf = (o: StoreOpts) => o.author ?? process.env.SLUICE_AUTHOR ?? userInfo().username;

/** The audit entry of a change made from the command line (no secrets: no configuration text). */
const audit = (s: Store, o: StoreOpts, action: string, target: string, after: Record<string, unknown>) =>
  s.appendAudit({
    at: new Date(),
    actor: `cli:${authorOf(o)}`,
    action,
    target,
    tenant: null,
    before: null,
    after,
  });

export function registerClusterCommands(config: Command): void {
  const common = (c: Command) =>
    c
      .option("-c, --config <file>", "a node's configuration file (for its store: URL)")
      .option("--store <url>", "the cluster store URL (postgres://…); default $SLUICE_STORE")
      .option("--author <name>", "who makes the change (default $SLUICE_AUTHOR, else your login name)");
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
    const r = await withStore(o, async (s, catalog) => {
      const r = await publishRevision(s, catalog, {
        role: o.role,
        text,
        author: authorOf(o),
        note: o.note ?? null,
      });
      await audit(s, o, "config.publish", `role:${r.role}`, { rev: r.rev, note: r.note });
      return r;
    });
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
    const r = await withStore(o, async (s, catalog) => {
      const r = await rollbackTo(s, catalog, Number(rev), authorOf(o));
      await audit(s, o, "config.rollback", `role:${r.role}`, { to: Number(rev), rev: r.rev });
      return r;
    });
    process.stdout.write(`published revision ${r.rev} for role ${r.role} (rollback to ${rev})\n`);
  });

  const shadow = config
    .command("shadow")
    .description("run a candidate configuration in shadow on chosen nodes");
  common(
    shadow
      .command("start")
      .description("validate a candidate and evaluate it beside the live revision (never acting)")
      .argument("<file>", "YAML with the cluster sections only")
      .requiredOption("--role <role>", "the role whose live revision it is compared with")
      .option("--nodes <names>", "comma-separated node names (default: every node of the role)")
      .option("--note <text>", "why"),
  ).action(async (file: string, o: StoreOpts & { role: string; nodes?: string; note?: string }) => {
    const text = await readFile(file, "utf8");
    const nodes = o.nodes
      ? o.nodes
          .split(",")
          .map((n) => n.trim())
          .filter(Boolean)
      : [];
    const r = await withStore(o, async (s, catalog) => {
      const r = await startShadowRun(s, catalog, {
        role: o.role,
        text,
        nodes,
        author: authorOf(o),
        note: o.note ?? null,
      });
      await audit(s, o, "config.shadow.start", `shadow:${r.id}`, { role: r.role, nodes: r.nodes });
      return r;
    });
    process.stdout.write(`shadow run ${r.id} started for role ${r.role}\n`);
  });
  common(shadow.command("list").description("shadow runs, newest first")).action(async (o: StoreOpts) => {
    const runs = await withStore(o, (s) => s.listShadows({}));
    for (const r of runs) {
      process.stdout.write(
        `${r.id}\t${r.role}\t${r.state}\t${r.nodes.join(",") || "all"}\t${r.createdAt.toISOString()}\t${r.note ?? ""}\n`,
      );
    }
  });
  common(
    shadow.command("report").description("recipients whose action would change").argument("<id>"),
  ).action(async (id: string, o: StoreOpts) => {
    const out = await withStore(o, async (s) => {
      const run = await s.getShadow(shadowId(id));
      if (!run) throw new ClusterError(`no shadow run ${id}`);
      return formatShadowReport(run, await s.shadowReport(run.id));
    });
    process.stdout.write(out);
  });
  common(
    shadow
      .command("publish")
      .description("publish the candidate as the role's new revision")
      .argument("<id>"),
  ).action(async (id: string, o: StoreOpts) => {
    const r = await withStore(o, async (s, catalog) => {
      const r = await publishShadow(s, catalog, shadowId(id), authorOf(o));
      await audit(s, o, "config.shadow.publish", `shadow:${id}`, { rev: r.rev, role: r.role });
      return r;
    });
    process.stdout.write(`published revision ${r.rev} for role ${r.role} (from shadow ${id})\n`);
  });
  common(
    shadow.command("discard").description("end the shadow run without publishing").argument("<id>"),
  ).action(async (id: string, o: StoreOpts) => {
    await withStore(o, async (s) => {
      await discardShadow(s, shadowId(id));
      await audit(s, o, "config.shadow.discard", `shadow:${id}`, { state: "discarded" });
    });
    process.stdout.write(`shadow run ${id} discarded\n`);
  });
}

function shadowId(id: string): number {
  if (!/^\d+$/.test(id)) throw new ClusterError(`shadow run id must be a number, got "${id}"`);
  return Number(id);
}
