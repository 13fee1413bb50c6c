// The hold queue shared by three nodes on a real PostgreSQL: all three run the hold scheduler
// at once over the same due entries, and every held message leaves exactly once (row locks
// with SKIP LOCKED in the release claim), arriving once at the next hop.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresMissing, startPostgres, type Postgres } from "../helpers/postgres.ts";
import { SmtpSink } from "../helpers/sink.ts";
import { localConfig, startNode, waitApplied, type Node } from "../helpers/cluster.ts";
import { publishRevision } from "../../src/cluster/publish.ts";
import { holdTick } from "../../src/quarantine/hold-scheduler.ts";
import { routesFor } from "../../src/quarantine/release.ts";
import { emptyEnvelope } from "../../src/message/envelope.ts";

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
      nodes.push(await startNode(name, localConfig(name, "mx", url, sink.port)));
    const r = await publishRevision(nodes[0]!.runtime.store!, nodes[0]!.runtime.registry, {
      role: "mx",
      author: "test",
      text: `
tenants:
  - id: example
    domains: [example.com]
    hold: { notify_sender: false }
    users: [{ address: alice@example.com }]
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
});
