// Runs the shared Store contract against a real PostgreSQL (a throwaway cluster, one fresh
// database per test), plus what only a shared database shows: concurrent claims, migrations
// racing, LISTEN/NOTIFY of revisions. Without the `postgresql` package it skips (CI: fails).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeContract } from "./contract.ts";
import { PostgresStore } from "./postgres.ts";
import { emptyEnvelope } from "../message/envelope.ts";
import { postgresMissing, startPostgres, type Postgres } from "../../test/helpers/postgres.ts";

const missing = postgresMissing();
let pg: Postgres;

if (missing) {
  describe("PostgreSQL store", () => {
    it.skip(`skipped: ${missing}`, () => undefined);
  });
} else {
  beforeAll(async () => {
    pg = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await pg?.destroy();
  });

  storeContract("PostgreSQL", async () => new PostgresStore(await pg.database()));

  describe("PostgreSQL store, shared by several nodes", () => {
    it("migrates once when several nodes start together", async () => {
      const url = await pg.database();
      const nodes = [1, 2, 3, 4].map(() => new PostgresStore(url, { max: 2 }));
      await Promise.all(nodes.map((s) => s.migrate()));
      expect(await nodes[0]!.latestConfigRevision("mx")).toBeNull();
      await Promise.all(nodes.map((s) => s.close()));
    });

    it("gives each hold to exactly one of many competing claimers", async () => {
      const url = await pg.database();
      const nodes = [1, 2, 3].map(() => new PostgresStore(url, { max: 4 }));
      await nodes[0]!.migrate();
      const env = emptyEnvelope("submission");
      env.recipients = [{ address: "x@other.org", params: {} }];
      const ids = Array.from({ length: 40 }, (_, i) => `H${i}`);
      for (const id of ids) {
        await nodes[0]!.putHold({
          id,
          tenant: "t",
          envelope: env,
          reason: "r",
          releaseAt: new Date(),
          message: Buffer.from("m"),
        });
      }
      // Each node claims every hold, in parallel, several times over with its own keys.
      const claims = await Promise.all(
        nodes.flatMap((s, n) =>
          ids.flatMap((id) =>
            [0, 1].map((k) =>
              s.claimRelease({
                key: `${id}-n${n}-${k}`,
                kind: "hold",
                itemId: id,
                recipients: "all",
                actor: `n${n}`,
              }),
            ),
          ),
        ),
      );
      for (const id of ids) {
        const won = claims.filter((c) => c.itemId === id && c.state === "claimed");
        expect(won.length, id).toBe(1);
      }
      await Promise.all(nodes.map((s) => s.close()));
    });

    it("notifies listeners of a published revision at once", async () => {
      const url = await pg.database();
      const a = new PostgresStore(url);
      const b = new PostgresStore(url);
      await a.migrate();
      const seen: string[] = [];
      const states: boolean[] = [];
      const watch = await b.watchConfig(
        (role, rev) => seen.push(`${role}:${rev}`),
        (up) => states.push(up),
      );
      const r = await a.publishConfig({
        role: "mx",
        text: "x: 1\n",
        author: "t",
        note: null,
        rollbackOf: null,
      });
      const until = Date.now() + 2000;
      while (!seen.length && Date.now() < until) await new Promise((res) => setTimeout(res, 10));
      expect(seen).toEqual([`mx:${r.rev}`]);
      expect(states).toEqual([true]);
      await watch.close();
      await a.close();
      await b.close();
    });
  });
}
