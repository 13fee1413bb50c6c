// Cluster benchmark (`npm run bench:cluster`): time from publish (validation included) to
// applied on all three nodes, median and max over 20 publishes; and quarantine writes per
// second on PostgreSQL (fsync on) against SQLite (synchronous=FULL). Needs `postgresql`.
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { postgresMissing, startPostgres } from "../test/helpers/postgres.ts";
import { SmtpSink } from "../test/helpers/sink.ts";
import { localConfig, startNode, waitApplied } from "../test/helpers/cluster.ts";
import { publishRevision } from "../src/cluster/publish.ts";
import { PostgresStore } from "../src/store/postgres.ts";
import { SqliteStore } from "../src/store/sqlite.ts";
import { emptyEnvelope } from "../src/message/envelope.ts";
import type { Store } from "../src/store/types.ts";

const PUBLISHES = Number(process.env.BENCH_PUBLISHES ?? 20);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const MESSAGE = Buffer.alloc(Number(process.env.BENCH_MESSAGE_BYTES ?? 20_000), "x");

const missing = postgresMissing();
if (missing) {
  console.error(`bench/cluster: ${missing}`);
  process.exit(2);
}

const pg = await startPostgres({ fsync: true });
console.log(`PostgreSQL 15 on 127.0.0.1:${pg.port} (fsync on), Node ${process.version}`);
const sink = new SmtpSink(false);
await sink.start();
try {
  // ---- publish → applied on all nodes: LISTEN/NOTIFY, then the polling fallback alone ----
  const round = async (label: string, listen: boolean, publishes: number) => {
    const url = await pg.database();
    const nodes = [];
    for (const name of ["a", "b", "c"]) {
      nodes.push(
        await startNode(name, localConfig(name, "mx", url, sink.port), { listen, pollDownMs: 2000 }),
      );
    }
    const times: number[] = [];
    for (let i = 0; i < publishes; i++) {
      // Without LISTEN a publish waits for the next poll: publish at a random point of the interval.
      if (!listen) await new Promise((r) => setTimeout(r, Math.random() * 2000));
      const text = `tenants:\n  - id: example\n    domains: [example.com]\n    users: [{ address: u${i}@example.com }]\n`;
      const t0 = performance.now();
      const r = await publishRevision(nodes[0]!.runtime.store!, nodes[0]!.runtime.registry, {
        role: "mx",
        text,
        author: "bench",
      });
      await waitApplied(nodes, r.rev, 10_000);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    console.log(
      `publish → applied on 3 nodes, ${label} (${publishes} publishes): median ${median.toFixed(1)} ms, max ${times.at(-1)!.toFixed(1)} ms`,
    );
    for (const n of nodes) await n.close();
  };
  await round("LISTEN/NOTIFY", true, PUBLISHES);
  await round("polling fallback every 2 s", false, Math.min(PUBLISHES, 10));

  // ---- quarantine writes ----
  const writes = async (name: string, store: Store, concurrency: number) => {
    await store.migrate();
    let n = 0;
    const until = performance.now() + SECONDS * 1000;
    const env = emptyEnvelope("inbound");
    env.mailFrom = { address: "s@x.org", params: {} };
    const worker = async (w: number) => {
      while (performance.now() < until) {
        await store.putQuarantine({
          id: `${name}-${w}-${n++}`,
          tenant: "example",
          envelope: env,
          score: 12,
          symbols: [{ name: "BAYES_SPAM", score: 12 }],
          subject: "bench",
          message: MESSAGE,
          recipients: [
            { address: "a@example.com", reason: "spam" },
            { address: "b@example.com", reason: "spam" },
          ],
        });
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
    const rate = n / ((performance.now() - t0) / 1000);
    console.log(
      `quarantine writes  ${name.padEnd(28)} concurrency ${String(concurrency).padStart(2)}  ${rate.toFixed(0).padStart(6)} /s`,
    );
    await store.close();
  };
  const sqliteDir = mkdtempSync(join(tmpdir(), "sluice-bench-sqlite-"));
  console.log(`(message ${MESSAGE.length} bytes, 2 recipients, ${SECONDS} s per row)`);
  await writes("SQLite (synchronous=FULL)", new SqliteStore(join(sqliteDir, "s.db")), 1);
  await writes("SQLite (synchronous=FULL)", new SqliteStore(join(sqliteDir, "s2.db")), 16);
  await writes("PostgreSQL (fsync on)", new PostgresStore(await pg.database()), 1);
  await writes("PostgreSQL (fsync on)", new PostgresStore(await pg.database(), { max: 16 }), 16);
} finally {
  await sink.stop();
  await pg.destroy();
}
