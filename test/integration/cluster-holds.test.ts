// Shared work on a real PostgreSQL with three nodes: all three run the hold scheduler at once
// over the same due entries and every held message leaves exactly once (row locks with SKIP
// LOCKED in the release claim); a message quarantined on one node is released from another.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresMissing, startPostgres, type Postgres } from "../helpers/postgres.ts";
import { SmtpSink } from "../helpers/sink.ts";
import { localConfig, startNode, waitApplied, type Node } from "../helpers/cluster.ts";
import { publishRevision } from "../../src/cluster/publish.ts";
import { holdTick } from "../../src/quarantine/hold-scheduler.ts";
import { routesFor } from "../../src/quarantine/release.ts";
import { emptyEnvelope } from "../../src/message/envelope.ts";
import { createQuarantineOps } from "../../src/quarantine/index.ts";
import { openSession, sendData } from "../helpers/cluster.ts";
import type { Filter } from "../../src/pipeline/types.ts";

/** Scores "viagra" 15: quarantined under the revision's thresholds. */
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

const missing = postgresMissing();
if (missing) console.warn(`skipping cluster hold tests: ${missing}`);

describe.skipIf(!!missing)("cluster: hold queue released once with three nodes competing", () => {
  let pg: Postgres;
  const sink = new SmtpSink();
  const nodes: Node[] = [];

  beforeAll(async () => {
    pg = await startPostgres();
    const url = await pg.database();
    await sink.start();
    for (const name of ["a", "b", "c"])
      nodes.push(
        await startNode(name, localConfig(name, "mx", url, sink.port), { extraFilters: [fakeSpam] }),
      );
    const r = await publishRevision(nodes[0]!.runtime.store!, nodes[0]!.runtime.registry, {
      role: "mx",
      author: "test",
      text: `
policy:
  thresholds: { tag: null, quarantine: 10, reject: 100 }
  filters: { spam-classifier: { enabled: false } }
tenants:
  - id: example
    domains: [example.com]
    hold: { notify_sender: false }
    users: [{ address: alice@example.com }, { address: bob@example.com }]
`,
    });
    await waitApplied(nodes, r.rev, 2000);
  }, 60_000);

  afterAll(async () => {
    for (const n of nodes) await n.close();
    await sink.stop();
    await pg?.destroy();
  });

  it("each due hold is delivered by exactly one node", async () => {
    const store = nodes[0]!.runtime.store!;
    const ids = Array.from({ length: 30 }, (_, i) => `HOLD${i}`);
    for (const id of ids) {
      const env = emptyEnvelope("submission");
      env.mailFrom = { address: "alice@example.com", params: {} };
      env.recipients = [{ address: `${id.toLowerCase()}@other.org`, params: {} }];
      await store.putHold({
        id,
        tenant: "example",
        envelope: env,
        reason: "test",
        releaseAt: new Date(Date.now() - 1000),
        message: Buffer.from(`Subject: ${id}\r\n\r\nheld ${id}\r\n`),
      });
    }
    // Three nodes tick at once, twice over.
    const reports = await Promise.all(
      [0, 1].flatMap(() => nodes.map((n) => holdTick(n.runtime, routesFor(n.runtime)))),
    );
    const released = reports.flatMap((r) => r.released).sort();
    expect(released).toEqual([...ids].sort());
    await sink.waitFor(ids.length);
    await new Promise((r) => setTimeout(r, 200));
    expect(sink.count).toBe(ids.length);
    const rcpts = sink.messages.flatMap((m) => m.to).sort();
    expect(rcpts).toEqual(ids.map((id) => `${id.toLowerCase()}@other.org`).sort());
    for (const id of ids) expect((await store.getHold(id))?.state).toBe("released");
  }, 30_000);

  it("releases from node C what node A quarantined, once", async () => {
    const store = nodes[0]!.runtime.store!;
    const c = await openSession(nodes[0]!.port, "bob@example.com");
    expect(await sendData(c, "buy viagra", "quarantine me")).toMatch(/^250 /);
    const [q] = await store.listQuarantine({ recipient: "bob@example.com" });
    expect(q?.recipients.map((r) => r.state)).toEqual(["quarantined"]);
    const before = sink.count;
    const [first, second] = await Promise.all([
      createQuarantineOps(nodes[2]!.runtime).release(q!.id, "all", { actor: "admin" }),
      createQuarantineOps(nodes[1]!.runtime).release(q!.id, "all", { actor: "admin" }),
    ]);
    expect([...first.released, ...second.released]).toEqual(["bob@example.com"]);
    await sink.waitFor(before + 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(sink.count).toBe(before + 1);
    expect(sink.messages.at(-1)?.data).toContain("quarantine me");
    expect((await store.getQuarantine(q!.id))?.recipients[0]?.state).toBe("released");
  }, 30_000);
});
