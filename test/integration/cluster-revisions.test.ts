// Cluster configuration revisions with a real PostgreSQL and three in-process nodes: publish
// through the console API as a logged-in operator, live apply within 2 s while an SMTP session
// is in flight on every node, late joiners, refusal at publish, a node that cannot apply,
// rollback, heartbeats, shadow runs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { postgresMissing, startPostgres, type Postgres } from "../helpers/postgres.ts";
import { SmtpSink } from "../helpers/sink.ts";
import {
  localConfig,
  openSession,
  sendData,
  startNode,
  waitApplied,
  waitUntil,
  type Node,
} from "../helpers/cluster.ts";
import { startWeb } from "../../src/web/server.ts";
import { createAccount } from "../../src/web/auth/accounts.ts";
import { ApiClient } from "../helpers/web.ts";
import type { Filter } from "../../src/pipeline/types.ts";

const missing = postgresMissing();
if (missing) console.warn(`skipping cluster tests: ${missing}`);

/** A filter only the newer node A knows: revisions enabling it cannot apply on B and C. */
const canary: Filter = {
  name: "canary",
  group: "canary",
  stages: ["data"],
  priority: 90,
  enabledByDefault: false,
  parseOptions: () => ({}),
  check: () => ({ symbols: [] }),
};

const tenants = (users: string[]) => `
tenants:
  - id: example
    domains: [example.com]
    users: [${users.map((u) => `{ address: ${u} }`).join(", ")}]
`;

describe.skipIf(!!missing)("cluster: configuration revisions on three nodes", () => {
  let pg: Postgres;
  let url: string;
  const sink = new SmtpSink();
  const nodes: Node[] = [];
  let api: FastifyInstance;
  let op: ApiClient;

  const publish = async (text: string, role = "mx") =>
    op.post("/api/config/revisions", { role, text, author: "forged" });

  beforeAll(async () => {
    pg = await startPostgres();
    url = await pg.database();
    await sink.start();
    for (const name of ["a", "b", "c"]) {
      nodes.push(
        await startNode(name, localConfig(name, "mx", url, sink.port), {
          extraFilters: name === "a" ? [canary] : [],
        }),
      );
    }
    // The console API of node A, with an operator logged in.
    api = await startWeb(nodes[0]!.runtime, "127.0.0.1:0");
    const rt = nodes[0]!.runtime;
    await createAccount(rt.store!, rt.config, {
      login: "ops",
      role: "operator",
      password: "operator-pass-1",
    });
    op = new ApiClient(`http://127.0.0.1:${(api.server.address() as { port: number }).port}`);
    expect((await op.login("ops", "operator-pass-1")).status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await api?.close();
    for (const n of nodes) await n.close();
    await sink.stop();
    await pg?.destroy();
  });

  it("applies a published revision on all three nodes within 2 s while a session is in flight on each", async () => {
    // Before: carol is unknown everywhere.
    const probe = await openSession(nodes[1]!.port, "alice@example.com");
    expect(await probe.cmd("RCPT TO:<carol@example.com>")).toMatch(/^550 5\.1\.1/);
    probe.close();

    const inFlight = await Promise.all(nodes.map((n) => openSession(n.port, "alice@example.com")));
    const res = await publish(tenants(["alice@example.com", "carol@example.com"]));
    expect(res.status).toBe(200);
    const rev = res.body.rev as number;
    // The author is the logged-in operator, never a value from the request body.
    expect(res.body.author).toBe("console:ops");
    const ms = await waitApplied(nodes, rev, 2000);
    expect(ms).toBeLessThan(2000);
    for (const n of nodes) expect(n.runtime.source).toBe(`revision ${rev} (role mx)`);

    // The sessions opened before the revision complete normally.
    const before = sink.count;
    const replies = await Promise.all(inFlight.map((c, i) => sendData(c, `in flight ${i}`)));
    for (const r of replies) expect(r).toMatch(/^250 /);
    await sink.waitFor(before + 3);

    // New sessions run the new revision: carol exists now on every node.
    for (const n of nodes) {
      const c = await openSession(n.port, "carol@example.com");
      expect(await sendData(c, "to carol")).toMatch(/^250 /);
    }
  });

  it("reports applied revision, version, uptime and health in heartbeats", async () => {
    const rev = nodes[0]!.agent.status().appliedRev;
    await waitUntil("heartbeats", 3000, async () => {
      const hbs = await nodes[0]!.runtime.store!.listHeartbeats();
      return hbs.length === 3 && hbs.every((h) => h.appliedRev === rev);
    });
    const res = await op.get("/api/nodes");
    const hbs = res.body.nodes as { name: string; version: string; health: string; seenAgoS: number }[];
    expect(hbs.map((h) => [h.name, h.health])).toEqual([
      ["a", "ok"],
      ["b", "ok"],
      ["c", "ok"],
    ]);
    expect(hbs[0]!.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(hbs[0]!.seenAgoS).toBeGreaterThanOrEqual(0);
  });

  it("refuses a bad revision at publish: no revision is created", async () => {
    const count = (await nodes[0]!.runtime.store!.listConfigRevisions({})).length;
    const bad = await publish(`${tenants(["alice@example.com"])}policy:\n  thresholds: { tag: "high" }\n`);
    expect(bad.status).toBe(422);
    expect((bad.body.issues as string[]).join("\n")).toMatch(/policy\.thresholds\.tag/);
    const local = await publish(`store: sqlite:/tmp/x.db\n${tenants(["alice@example.com"])}`);
    expect(local.status).toBe(422);
    expect((local.body.issues as string[]).join("\n")).toMatch(/store: node-local/);
    // Sieve scripts are compiled at publish: a broken script refuses the revision.
    const script = join(mkdtempSync(join(tmpdir(), "sluice-sieve-")), "broken.sieve");
    writeFileSync(script, 'require "fileinto";\nif header :contains "subject" "x" { fileinto "Junk"\n');
    const sieve = await publish(
      `${tenants(["alice@example.com"])}policy:\n  filters:\n    sieve: { options: { inbound: [${JSON.stringify(script)}] } }\n`,
    );
    expect(sieve.status).toBe(422);
    expect((sieve.body.issues as string[]).join("\n")).toContain("broken.sieve");
    expect((await nodes[0]!.runtime.store!.listConfigRevisions({})).length).toBe(count);
  });

  it("a node that cannot apply a revision keeps its last good one and reports the error", async () => {
    const good = nodes[1]!.agent.status().appliedRev!;
    const res = await publish(
      `${tenants(["alice@example.com", "carol@example.com"])}policy:\n  filters:\n    canary: { enabled: true }\n`,
    );
    expect(res.status).toBe(200);
    const rev = res.body.rev as number;
    await waitApplied([nodes[0]!], rev, 2000);
    await waitUntil("B and C refuse", 2000, () =>
      nodes.slice(1).every((n) => n.agent.status().failedRev === rev),
    );
    for (const n of nodes.slice(1)) {
      expect(n.agent.status().appliedRev).toBe(good);
      expect(n.agent.status().error).toMatch(/canary/);
      expect(n.runtime.source).toBe(`revision ${good} (role mx)`);
      // Still filtering with the last good revision.
      const c = await openSession(n.port, "carol@example.com");
      expect(await sendData(c, "still working")).toMatch(/^250 /);
    }
    const metrics = await nodes[1]!.runtime.metrics.registry.metrics();
    expect(metrics).toMatch(/^sluice_cluster_apply_failures_total 1$/m);
    expect(metrics).toMatch(new RegExp(`^sluice_cluster_applied_revision ${good}$`, "m"));
    expect(metrics).toMatch(/^sluice_cluster_listen_up 1$/m);
    await waitUntil("heartbeat reports the failure", 3000, async () => {
      const hbs = await nodes[0]!.runtime.store!.listHeartbeats();
      return hbs.filter((h) => h.health === "apply_failed" && h.failedRev === rev).length === 2;
    });
  });

  it("rolls back by republishing an earlier revision, and a late node catches up", async () => {
    const revs = await nodes[0]!.runtime.store!.listConfigRevisions({ role: "mx" });
    const first = revs[revs.length - 1]!.rev;
    const res = await op.post("/api/config/rollback", { rev: first });
    expect(res.status).toBe(200);
    const back = res.body as { rev: number; rollbackOf: number };
    expect(back.rollbackOf).toBe(first);
    await waitApplied(nodes, back.rev, 2000);
    for (const n of nodes) expect(n.agent.status().failedRev).toBeNull();

    const late = await startNode("d", localConfig("d", "mx", url, sink.port));
    nodes.push(late);
    expect(late.agent.status().appliedRev).toBe(back.rev);
    const c = await openSession(late.port, "carol@example.com");
    expect(await sendData(c, "late")).toMatch(/^250 /);
  });

  it("runs and discards a shadow candidate through the API", async () => {
    const post = (path: string, body: unknown) => op.post(path, body);
    const bad = await post("/api/config/shadows", {
      role: "mx",
      text: "web: { listen: x }\n",
      nodes: ["b"],
    });
    expect(bad.status).toBe(422);
    const res = await post("/api/config/shadows", {
      role: "mx",
      text: tenants(["alice@example.com"]),
      nodes: ["b"],
    });
    expect(res.status).toBe(200);
    const id = res.body.id as number;
    await waitUntil("b shadows", 2000, () => nodes[1]!.agent.status().shadow === id);
    expect(nodes[0]!.agent.status().shadow).toBeNull();
    const c = await openSession(nodes[1]!.port, "carol@example.com");
    expect(await sendData(c, "shadowed")).toMatch(/^250 /);
    await waitUntil("evaluated", 3000, async () => {
      const r = (await op.get(`/api/config/shadows/${id}`)).body as {
        report: { evaluated: Record<string, number>; diffs: { recipient: string; shadowAction: string }[] };
      };
      // carol does not exist in the candidate: refused at RCPT there.
      return r.report.evaluated.b === 1 && r.report.diffs[0]?.shadowAction === "reject";
    });
    expect((await post(`/api/config/shadows/${id}/discard`, {})).status).toBe(200);
    await waitUntil("b stops", 2000, () => nodes[1]!.agent.status().shadow === null);
  });

  it("leaves nodes of another role alone", async () => {
    const applied = nodes.map((n) => n.agent.status().appliedRev);
    const res = await publish(tenants(["alice@example.com"]), "submission");
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(nodes.map((n) => n.agent.status().appliedRev)).toEqual(applied);
  });
});
