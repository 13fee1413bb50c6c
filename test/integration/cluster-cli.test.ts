// `sluice config publish/history/rollback` against a real PostgreSQL, with a `sluice serve`
// child process as the node (identity from SLUICE_NODE_NAME / SLUICE_NODE_ROLE): it applies
// what the CLI publishes and reports it in its heartbeat; a bad file is refused with exit 2.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { postgresMissing, startPostgres, type Postgres } from "../helpers/postgres.ts";
import { NODE, SLUICE, run } from "../helpers/cli.ts";
import { freePort } from "../helpers/ports.ts";
import { waitUntil } from "../helpers/cluster.ts";
import { PostgresStore } from "../../src/store/postgres.ts";

const missing = postgresMissing();
if (missing) console.warn(`skipping cluster CLI tests: ${missing}`);

describe.skipIf(!!missing)("cluster: sluice config publish/history/rollback with a serve node", () => {
  let pg: Postgres;
  let url: string;
  let store: PostgresStore;
  let child: ChildProcess;
  let log = "";
  const dir = mkdtempSync(join(tmpdir(), "sluice-cluster-cli-"));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const nodeOf = async (name: string) => (await store.listHeartbeats()).find((h) => h.name === name);

  beforeAll(async () => {
    pg = await startPostgres();
    url = await pg.database();
    store = new PostgresStore(url);
    await store.migrate();
    const local = file(
      "node.yaml",
      `store: ${url}
log: { level: info }
web: { listen: "127.0.0.1:${await freePort()}" }
spool: { dir: ${dir}/spool }
delivery: maildir:${dir}/maildir
smtp: { listeners: { inbound: { listen: "127.0.0.1:0" }, submission: { enabled: false }, submissions: { enabled: false } } }
milter: { enabled: false }
`,
    );
    child = spawn(NODE, [SLUICE, "serve", "-c", local], {
      cwd: dir,
      env: { ...process.env, SLUICE_NODE_NAME: "edge-1", SLUICE_NODE_ROLE: "mx" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (d) => (log += d));
    child.stderr!.on("data", (d) => (log += d));
    await waitUntil("serve node heartbeat", 20_000, async () => !!(await nodeOf("edge-1")));
  }, 60_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    await store?.close();
    await pg?.destroy();
  });

  const tenants = (users: string) =>
    `tenants:\n  - id: example\n    domains: [example.com]\n    users: [${users}]\n`;

  it("publishes, shows history, refuses a bad file, and rolls back; the node follows", async () => {
    const good = file("mx.yaml", tenants("{ address: alice@example.com }"));
    const p1 = await run(["config", "publish", good, "--role", "mx", "--store", url, "--note", "first"]);
    expect(p1.stderr).toBe("");
    expect(p1.code).toBe(0);
    const rev1 = Number(/revision (\d+)/.exec(p1.stdout)![1]);
    await waitUntil("node applies rev1", 3000, async () => (await nodeOf("edge-1"))?.appliedRev === rev1);

    const bad = file("bad.yaml", tenants("{ address: not-an-address }"));
    const p2 = await run(["config", "publish", bad, "--role", "mx", "--store", url]);
    expect(p2.code).toBe(2);
    expect(p2.stderr).toMatch(/tenants\[0\]\.users\[0\]\.address: not a mail address/);

    const p3 = await run([
      "config",
      "publish",
      file("mx2.yaml", tenants("{ address: alice@example.com }, { address: bob@example.com }")),
      "--role",
      "mx",
      "--store",
      url,
    ]);
    const rev2 = Number(/revision (\d+)/.exec(p3.stdout)![1]);
    await waitUntil("node applies rev2", 3000, async () => (await nodeOf("edge-1"))?.appliedRev === rev2);

    const rb = await run(["config", "rollback", String(rev1), "--store", url]);
    expect(rb.code).toBe(0);
    const rev3 = Number(/revision (\d+)/.exec(rb.stdout)![1]);
    expect(rev3).toBeGreaterThan(rev2);
    await waitUntil(
      "node applies the rollback",
      3000,
      async () => (await nodeOf("edge-1"))?.appliedRev === rev3,
    );
    expect((await store.getConfigRevision(rev3))?.text).toBe((await store.getConfigRevision(rev1))?.text);

    const h = await run(["config", "history", "--store", url]);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(new RegExp(`^${rev3}\\s+mx .*rollback to ${rev1}`, "m"));
    expect(h.stdout).toMatch(new RegExp(`^${rev1}\\s+mx .*first`, "m"));
    expect(h.stdout).toMatch(new RegExp(`^edge-1\\s+mx\\s+${rev3}\\s+ok`, "m"));
    expect(log).toMatch(/configuration revision applied/);
  }, 30_000);

  it("runs a shadow candidate from the CLI: start, list, report, publish", async () => {
    const cand = file("cand.yaml", tenants("{ address: alice@example.com }, { address: carol@example.com }"));
    const st = await run([
      "config",
      "shadow",
      "start",
      cand,
      "--role",
      "mx",
      "--nodes",
      "edge-1",
      "--store",
      url,
    ]);
    expect(st.stderr).toBe("");
    const id = Number(/shadow run (\d+)/.exec(st.stdout)![1]);
    await waitUntil("serve node shadows", 3000, () => log.includes("shadow evaluation started"));
    const ls = await run(["config", "shadow", "list", "--store", url]);
    expect(ls.stdout).toMatch(new RegExp(`^${id}\tmx\trunning\tedge-1`, "m"));
    const rep = await run(["config", "shadow", "report", String(id), "--store", url]);
    expect(rep.stdout).toMatch(/role mx, running, nodes edge-1/);
    expect(rep.stdout).toMatch(/0 recipient actions would change/);
    const pub = await run(["config", "shadow", "publish", String(id), "--store", url]);
    const rev = Number(/published revision (\d+)/.exec(pub.stdout)![1]);
    await waitUntil(
      "node applies the candidate",
      3000,
      async () => (await nodeOf("edge-1"))?.appliedRev === rev,
    );
    const again = await run(["config", "shadow", "discard", String(id), "--store", url]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/is published/);
  }, 30_000);
});
