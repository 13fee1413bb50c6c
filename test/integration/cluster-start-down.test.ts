// A `sluice serve` cluster node started while PostgreSQL is down: it runs the revision it last
// applied (kept under its state directory), filters mail, says "degraded" in /healthz and the
// metrics, retries with backoff and recovers by itself; without a cached revision it refuses to
// start with one JSON log line (no stack trace). Real PostgreSQL, real `sluice serve` processes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { postgresMissing, startPostgres, type Postgres } from "../helpers/postgres.ts";
import { NODE, SLUICE } from "../helpers/cli.ts";
import { freePort } from "../helpers/ports.ts";
import { openSession, sendData, waitUntil } from "../helpers/cluster.ts";
import { SmtpSink } from "../helpers/sink.ts";
import { PostgresStore } from "../../src/store/postgres.ts";
import { publishRevision } from "../../src/cluster/publish.ts";
import { FilterRegistry } from "../../src/pipeline/registry.ts";
import { builtinFilters } from "../../src/filters/index.ts";

const missing = postgresMissing();
if (missing) console.warn(`skipping cluster start-while-down tests: ${missing}`);

interface Served {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  out: { stdout: string; stderr: string };
  exited: Promise<number | null>;
  find(msg: string): Record<string, unknown> | undefined;
  stop(): Promise<void>;
}

function serve(config: string, cwd: string): Served {
  const child = spawn(NODE, [SLUICE, "serve", "-c", config], {
    cwd,
    env: { ...process.env, SLUICE_NODE_NAME: "edge-1", SLUICE_NODE_ROLE: "mx" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out = { stdout: "", stderr: "" };
  const lines: Record<string, unknown>[] = [];
  child.stdout!.on("data", (d) => {
    out.stdout += d;
    const all = out.stdout.split("\n");
    lines.length = 0;
    for (const l of all.slice(0, -1)) lines.push(JSON.parse(l) as Record<string, unknown>);
  });
  child.stderr!.on("data", (d) => (out.stderr += d));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return {
    child,
    lines,
    out,
    exited,
    find: (msg) => lines.find((l) => l.msg === msg),
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await exited;
    },
  };
}

const revision = `
tenants:
  - id: example
    domains: [example.com]
    users: [{ address: carol@example.com, spam_filter: false }]
`;

describe.skipIf(!!missing)("cluster: a node starts while PostgreSQL is down", () => {
  let pg: Postgres;
  let url: string;
  const sink = new SmtpSink();
  const dir = mkdtempSync(join(tmpdir(), "sluice-start-down-"));
  const nodes: Served[] = [];
  let web = 0;
  let config = "";

  const localFile = (name: string, state: string, webPort: number) => {
    const f = join(dir, name);
    writeFileSync(
      f,
      `store: ${url}
log: { level: info }
node: { state_dir: ${state} }
web: { listen: "127.0.0.1:${webPort}" }
spool: { dir: ${dir}/spool }
delivery: smtp://127.0.0.1:${sink.port}
smtp: { listeners: { inbound: { listen: "127.0.0.1:0" }, submission: { enabled: false }, submissions: { enabled: false } } }
milter: { enabled: false }
`,
    );
    return f;
  };
  const inboundPort = (n: Served) =>
    Number(
      String(n.lines.find((l) => l.listener === "inbound" && l.msg === "listening")!.address)
        .split(":")
        .pop(),
    );
  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${web}${path}`);
    return path === "/metrics" ? await res.text() : ((await res.json()) as Record<string, unknown>);
  };

  beforeAll(async () => {
    pg = await startPostgres();
    url = await pg.database();
    await sink.start();
    const store = new PostgresStore(url);
    await store.migrate();
    const registry = new FilterRegistry(builtinFilters({}));
    await publishRevision(store, registry, { role: "mx", text: revision, author: "test" });
    await store.close();
    web = await freePort();
    config = localFile("node.yaml", join(dir, "state"), web);
  }, 60_000);

  afterAll(async () => {
    for (const n of nodes) await n.stop();
    await sink.stop();
    await pg?.destroy();
  });

  it("keeps the applied revision locally, starts on it without the store, and recovers", async () => {
    const first = serve(config, dir);
    nodes.push(first);
    await waitUntil("first start applies revision 1", 20_000, () => !!first.find("ready"));
    expect(first.find("cluster: configuration revision applied")).toMatchObject({ rev: 1 });
    const cache = join(dir, "state", "cluster-revision.mx.json");
    expect(existsSync(cache)).toBe(true);
    expect(statSync(cache).mode & 0o777).toBe(0o600);
    await first.stop();

    await pg.stop();
    const second = serve(config, dir);
    nodes.push(second);
    await waitUntil(
      "start without the store",
      30_000,
      () => !!second.find("ready") || second.child.exitCode !== null,
    );
    expect(second.out.stderr).toBe("");
    expect(
      second.find(
        "cluster: store unreachable at start; running the cached revision and retrying with backoff",
      ),
    ).toMatchObject({
      rev: 1,
    });
    // carol exists only in revision 1: the node filters on the cached revision.
    const before = sink.count;
    const c = await openSession(inboundPort(second), "carol@example.com");
    expect(await sendData(c, "hello while the database is down")).toMatch(/^250 /);
    await sink.waitFor(before + 1);
    expect(await get("/healthz")).toMatchObject({
      status: "degraded",
      cluster: { degraded: true, store: "down", revision: 1, config: "cache" },
    });
    const metrics = (await get("/metrics")) as string;
    expect(metrics).toMatch(/^sluice_cluster_store_up 0$/m);
    expect(metrics).toMatch(/^sluice_cluster_config_cached 1$/m);
    expect(metrics).toMatch(/^sluice_cluster_store_failures_total [1-9]/m);

    const restarted = Date.now();
    await pg.start();
    await waitUntil(
      "node reconnects by itself",
      40_000,
      () => !!second.find("cluster: store reachable again"),
    );
    console.log(`node recovered ${Date.now() - restarted} ms after PostgreSQL came back`);
    expect(await get("/healthz")).toMatchObject({
      status: "ok",
      cluster: { degraded: false, store: "up", revision: 1, config: "store" },
    });
    await second.stop();
  }, 120_000);

  it("refuses to start without a cached revision, with one JSON log line and exit 1", async () => {
    await pg.stop();
    const fresh = serve(localFile("fresh.yaml", join(dir, "empty-state"), await freePort()), dir);
    nodes.push(fresh);
    const code = await fresh.exited;
    expect(code).toBe(1);
    expect(fresh.out.stderr).toBe("");
    const fatal = fresh.lines.filter((l) => (l.level as number) >= 50);
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toMatchObject({ level: 60, msg: "cannot start" });
    expect(String(fatal[0]!.err)).toMatch(/no cached revision of role mx at .*empty-state.*not starting/);
    await pg.start();
  }, 60_000);
});
