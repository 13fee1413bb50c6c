// GreylistStore in SQL: the triplet state machine written once. One sighting is one transaction
// (row lock on PostgreSQL), so two nodes seeing the same new triplet agree on its first sighting.
// Committed with relaxed durability (softTx): a power cut may forget a sighting, which only
// greylists that triplet again.
import type { GreylistAnswer, GreylistQuery, GreylistStore } from "../types.ts";
import { sql } from "./query.ts";
import type { Db, Dialect } from "./dialect.ts";

const S = 1000;

export function greylistStore(d: Dialect): GreylistStore {
  return {
    async greylist(q) {
      return d.softTx((db) => sighting(d, db, q));
    },

    async pruneGreylist(triplets, clients) {
      return d.softTx(async (db) => {
        const a = await db.run(sql`DELETE FROM greylist_triplet WHERE last_seen < ${triplets}`);
        const b = await db.run(sql`DELETE FROM greylist_client WHERE last_seen < ${clients}`);
        return a + b;
      });
    },
  };
}

async function sighting(d: Dialect, db: Db, q: GreylistQuery): Promise<GreylistAnswer> {
  const now = q.now;
  const t = now.getTime();
  const key = sql`tenant = ${q.tenant} AND network = ${q.network}`;
  if (q.autoAllowAfter > 0) {
    const [c] = await db.all(sql`SELECT passes, last_seen FROM greylist_client WHERE ${key}`);
    if (
      c &&
      Number(c.passes) >= q.autoAllowAfter &&
      d.time(c.last_seen).getTime() >= t - q.autoAllowExpiryS * S
    ) {
      await db.run(sql`UPDATE greylist_client SET passes = passes + 1, last_seen = ${now} WHERE ${key}`);
      return { state: "client-allowed", firstSeen: now, clientPasses: Number(c.passes) + 1 };
    }
  }
  const triplet = sql`${key} AND sender = ${q.sender} AND recipient = ${q.recipient}`;
  const added = await db.run(
    sql`INSERT INTO greylist_triplet (tenant, network, sender, recipient, first_seen, passed_at, last_seen)
        VALUES (${q.tenant}, ${q.network}, ${q.sender}, ${q.recipient}, ${now}, NULL, ${now})
        ON CONFLICT (tenant, network, sender, recipient) DO NOTHING`,
  );
  if (added > 0) return { state: "new", firstSeen: now, clientPasses: 0 };
  const [row] = await db.all(
    sql`SELECT first_seen, passed_at, last_seen FROM greylist_triplet WHERE ${triplet}${d.lockRows(false)}`,
  );
  const firstSeen = d.time(row!.first_seen);
  const restart = async (): Promise<GreylistAnswer> => {
    await db.run(
      sql`UPDATE greylist_triplet SET first_seen = ${now}, passed_at = NULL, last_seen = ${now} WHERE ${triplet}`,
    );
    return { state: "new", firstSeen: now, clientPasses: 0 };
  };
  if (row!.passed_at !== null && row!.passed_at !== undefined) {
    if (d.time(row!.last_seen).getTime() < t - q.expiryS * S) return restart();
    await db.run(sql`UPDATE greylist_triplet SET last_seen = ${now} WHERE ${triplet}`);
    return { state: "known", firstSeen, clientPasses: await pass(d, db, q) };
  }
  const age = t - firstSeen.getTime();
  if (age < q.delayS * S) return { state: "early", firstSeen, clientPasses: 0 };
  if (age > q.retryWindowS * S) return restart();
  await db.run(sql`UPDATE greylist_triplet SET passed_at = ${now}, last_seen = ${now} WHERE ${triplet}`);
  return { state: "passed", firstSeen, clientPasses: await pass(d, db, q) };
}

/** Count a pass for the client network; an entry idle past its expiry starts again from one. */
async function pass(d: Dialect, db: Db, q: GreylistQuery): Promise<number> {
  const stale = new Date(q.now.getTime() - q.autoAllowExpiryS * S);
  const [row] = await db.all(
    sql`INSERT INTO greylist_client (tenant, network, passes, last_seen) VALUES (${q.tenant}, ${q.network}, 1, ${q.now})
        ON CONFLICT (tenant, network) DO UPDATE SET
          passes = CASE WHEN greylist_client.last_seen < ${stale} THEN 1 ELSE greylist_client.passes + 1 END,
          last_seen = excluded.last_seen
        RETURNING passes`,
  );
  return Number(row?.passes ?? 1);
}
