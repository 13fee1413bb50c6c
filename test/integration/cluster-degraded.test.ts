// Degraded mode with a real PostgreSQL: stop the database under two running nodes. They keep
// filtering with their last revision; only what needs the store (quarantine) answers 451 4.3.0;
// after the database returns they recover by themselves (store writes, LISTEN, new revisions).
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
import { publishRevision } from "../../src/cluster/publish.ts";
import type { Filter } from "../../src/pipeline/types.ts";

const missing = postgresMissing();
if (missing) console.warn(`skipping cluster degraded-mode tests: ${missing}`);

/** Scores "viagra" as spam so the policy quarantines it (a store write). */
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

const revision = (users: string[]) => `
policy:
  thresholds: { tag: 5, quarantine: 10, reject: 50 }
tenants:
  - id: example
    domains: [example.com]
    users: [${users.map((u) => `{ address: ${u} }`).join(", ")}]
`;

describe.skipIf(!!missing)("cluster: PostgreSQL stopped and restarted", () => {
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
  const publish = (text: string) =>
    publishRevision(store(), nodes[0]!.runtime.registry, { role: "mx", text, author: "test" });

  it("keeps filtering on the last revision, tempfails only store writes, and recovers", async () => {
    const r1 = await publish(revision(["alice@example.com", "carol@example.com"]));
    await waitApplied(nodes, r1.rev, 2000);
    const spam = await openSession(nodes[0]!.port, "alice@example.com");
    expect(await sendData(spam, "buy viagra")).toMatch(/^250 /);
    expect((await store().listQuarantine({})).length).toBe(1);

    await pg.stop();
    await waitUntil("nodes notice the outage", 5000, () =>
      nodes.every((n) => !n.agent.status().storeReachable && !n.agent.status().listening),
    );
    const before = sink.count;
    for (const n of nodes) {
      // carol exists only in revision r1: the node still runs it.
      expect(n.agent.status().appliedRev).toBe(r1.rev);
      const ham = await openSession(n.port, "carol@example.com");
      expect(await sendData(ham, "hello")).toMatch(/^250 /);
      const s = await openSession(n.port, "alice@example.com");
      expect(await sendData(s, "more viagra")).toMatch(/^451 4\.3\.0/);
    }
    await sink.waitFor(before + 2);

    await pg.start();
    await waitUntil("nodes reconnect", 10_000, () =>
      nodes.every((n) => n.agent.status().storeReachable && n.agent.status().listening),
    );
    for (const n of nodes) {
      const s = await openSession(n.port, "alice@example.com");
      expect(await sendData(s, "viagra again")).toMatch(/^250 /);
    }
    expect((await store().listQuarantine({})).length).toBe(3);
    // LISTEN is back: a new revision arrives at once, not at the next poll.
    const r2 = await publish(revision(["alice@example.com", "carol@example.com", "dave@example.com"]));
    await waitApplied(nodes, r2.rev, 2000);
    const d = await openSession(nodes[1]!.port, "dave@example.com");
    expect(await sendData(d, "hi dave")).toMatch(/^250 /);
  }, 60_000);
});
