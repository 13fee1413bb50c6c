// Crash matrix, config publish: `sluice config publish` killed (SIGKILL) right before and right
// after its store step. Before: no revision exists and the node keeps what it runs. After: the
// revision exists whole and the node applies it. Never half a revision. Real PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { postgresMissing, startPostgres, type Postgres } from "../helpers/postgres.ts";
import { NODE, SLUICE } from "../helpers/cli.ts";
import { SmtpSink } from "../helpers/sink.ts";
import { localConfig, startNode, waitApplied, type Node } from "../helpers/cluster.ts";

const missing = postgresMissing();
if (missing) console.warn(`skipping config publish crash tests: ${missing}`);

function cli(args: string[], fault: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(NODE, [SLUICE, ...args], {
      env: { ...process.env, NODE_ENV: "test", SLUICE_FAULT: fault },
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("exit", (code, sig) => resolve({ code: sig ? 137 : code, out }));
  });
}

describe.skipIf(!!missing)("crash matrix: config publish", () => {
  let pg: Postgres;
  let url = "";
  let node: Node;
  const sink = new SmtpSink();
  const dir = mkdtempSync(join(tmpdir(), "sluice-crash-publish-"));
  const file = join(dir, "rev.yaml");

  beforeAll(async () => {
    pg = await startPostgres();
    url = await pg.database();
    await sink.start();
    node = await startNode("a", localConfig("a", "mx", url, sink.port));
    writeFileSync(
      file,
      "tenants:\n  - id: example\n    domains: [example.com]\n    users: [{ address: dave@example.com }]\n",
    );
  }, 60_000);
  afterAll(async () => {
    await node?.close();
    await sink.stop();
    await pg?.destroy();
  });

  it("killed before the store step: no revision, the node keeps its configuration", async () => {
    const r = await cli(
      ["config", "publish", file, "--role", "mx", "--store", url],
      "store.publishConfig.before",
    );
    expect(r.code).toBe(137);
    expect(r.out).toContain("fault point store.publishConfig.before: SIGKILL");
    expect(await node.runtime.store!.latestConfigRevision("mx")).toBeNull();
    expect(node.agent.status().appliedRev).toBeNull();
  });

  it("killed after the store step: the revision exists whole and the node applies it", async () => {
    const r = await cli(
      ["config", "publish", file, "--role", "mx", "--store", url],
      "store.publishConfig.after",
    );
    expect(r.code).toBe(137);
    const rev = await node.runtime.store!.latestConfigRevision("mx");
    expect(rev?.rev).toBe(1);
    expect(rev?.text).toContain("dave@example.com");
    await waitApplied([node], 1, 5000);
    expect(node.runtime.resolver.isLocal("dave@example.com")).toBe(true);
  });
});
