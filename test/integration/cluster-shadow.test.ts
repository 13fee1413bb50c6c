// Shadow rollout with a real PostgreSQL and two nodes: a candidate with a lower quarantine
// threshold runs in shadow on node A only; real traffic is answered by the live revision
// (nothing quarantined), the report lists exactly the recipients whose action would change,
// node B evaluates nothing; then the candidate is published (or discarded) and shadowing stops.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
import { discardShadow, publishRevision, publishShadow, startShadowRun } from "../../src/cluster/publish.ts";
import type { Filter } from "../../src/pipeline/types.ts";

const missing = postgresMissing();
if (missing) console.warn(`skipping cluster shadow tests: ${missing}`);

/** Scores "viagra" 15. */
const fakeSpam: Filter = {
  name: "test_spam",
  group: "spam",
  stages: ["data"],
  priority: 50,
  enabledByDefault: true,
  parseOptions: () => ({}),
  async check(ctx) {
    const body = (await ctx.tx!.spool!.buffer()).toString();
    return { symbols: [{ name: "TEST_SPAM", score: body.includes("viagra") ? 15 : 0 }] };
  },
};

// The trained classifier is not what this test is about: only test_spam scores.
const config = (quarantine: number) => `
policy:
  thresholds: { tag: null, quarantine: ${quarantine}, reject: 100 }
  filters: { spam-classifier: { enabled: false } }
tenants:
  - id: example
    domains: [example.com]
    users: [{ address: alice@example.com }, { address: bob@example.com }]
`;

describe.skipIf(!!missing)("cluster: shadow rollout", () => {
  let pg: Postgres;
  const sink = new SmtpSink();
  const nodes: Node[] = [];

  beforeAll(async () => {
    pg = await startPostgres();
    const url = await pg.database();
    await sink.start();
    for (const name of ["a", "b"]) {
      nodes.push(
        await startNode(name, localConfig(name, "mx", url, sink.port), { extraFilters: [fakeSpam] }),
      );
    }
  }, 60_000);

  afterAll(async () => {
    for (const n of nodes) await n.close();
    await sink.stop();
    await pg?.destroy();
  });

  const store = () => nodes[0]!.runtime.store!;
  const registry = () => nodes[0]!.runtime.registry;

  it("evaluates a candidate beside the live revision without acting, reports changes, then publishes", async () => {
    const live = await publishRevision(store(), registry(), { role: "mx", text: config(50), author: "t" });
    await waitApplied(nodes, live.rev, 2000);

    await expect(
      startShadowRun(store(), registry(), {
        role: "mx",
        text: "store: sqlite:x\n",
        author: "t",
        nodes: ["a"],
      }),
    ).rejects.toThrow(/node-local/);
    const run = await startShadowRun(store(), registry(), {
      role: "mx",
      text: config(10),
      author: "t",
      nodes: ["a"],
    });
    await waitUntil("node a shadows", 2000, () => nodes[0]!.agent.status().shadow === run.id);
    expect(nodes[1]!.agent.status().shadow).toBeNull();

    const before = sink.count;
    for (const n of nodes) {
      const spam = await openSession(n.port, "alice@example.com");
      spam.send("RCPT TO:<bob@example.com>\r\n");
      expect(await spam.reply()).toMatch(/^250/);
      expect(await sendData(spam, "cheap viagra")).toMatch(/^250 /);
      const ham = await openSession(n.port, "bob@example.com");
      expect(await sendData(ham, "lunch?")).toMatch(/^250 /);
    }
    // The live revision acted: everything delivered, nothing quarantined.
    await sink.waitFor(before + 4);
    expect(await store().listQuarantine({})).toEqual([]);

    await waitUntil("report", 3000, async () => (await store().shadowReport(run.id)).evaluated.a === 2);
    const report = await store().shadowReport(run.id);
    expect(report.evaluated).toEqual({ a: 2 });
    expect(
      report.diffs.map((d) => `${d.node} ${d.recipient} ${d.liveAction}→${d.shadowAction}`).sort(),
    ).toEqual(["a alice@example.com accept→quarantine", "a bob@example.com accept→quarantine"]);

    const rev = await publishShadow(store(), registry(), run.id, "t");
    expect((await store().getShadow(run.id))?.state).toBe("published");
    await waitApplied(nodes, rev.rev, 2000);
    await waitUntil("shadowing stops", 2000, () => nodes[0]!.agent.status().shadow === null);
    const s = await openSession(nodes[1]!.port, "alice@example.com");
    expect(await sendData(s, "viagra now")).toMatch(/^250 /);
    expect((await store().listQuarantine({})).length).toBe(1);
  });

  it("discards a candidate: every node stops shadowing and nothing is published", async () => {
    const revs = (await store().listConfigRevisions({})).length;
    const run = await startShadowRun(store(), registry(), {
      role: "mx",
      text: config(5),
      author: "t",
      nodes: [],
    });
    await waitUntil("both shadow", 2000, () => nodes.every((n) => n.agent.status().shadow === run.id));
    await discardShadow(store(), run.id);
    await waitUntil("both stop", 2000, () => nodes.every((n) => n.agent.status().shadow === null));
    expect((await store().listConfigRevisions({})).length).toBe(revs);
    await expect(discardShadow(store(), run.id)).rejects.toThrow(/discarded/);
  });
});
