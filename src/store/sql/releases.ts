// ReleaseStore in SQL: the exactly-once release rules, written once for both backends.
// claimed (recipients reserved with release_key, nothing sent) → delivered (the next hop's
// answer recorded) → done (accepted recipients released, the rest unreserved). A claim locks
// what it reserves inside one transaction: SQLite's write lock, PostgreSQL's row locks with
// SKIP LOCKED (rows another node is reserving right now are not ours to take; once it commits
// they carry its release_key and stay out of reach anyway).
import type { ReleaseClaim, ReleaseClaimInput, ReleaseStore } from "../types.ts";
import { sql } from "./query.ts";
import { str, type Db, type Dialect, type Row } from "./dialect.ts";

export function releaseStore(d: Dialect): ReleaseStore {
  const claim = (row: Row): ReleaseClaim => ({
    key: str(row.key),
    kind: row.kind as ReleaseClaim["kind"],
    itemId: str(row.item_id),
    recipients: d.json(row.recipients),
    actor: str(row.actor),
    state: row.state as ReleaseClaim["state"],
    accepted: d.json(row.accepted),
    failed: d.json(row.failed),
    createdAt: d.time(row.created_at),
  });

  async function getClaim(db: Db, key: string, lock = false): Promise<ReleaseClaim | null> {
    const [row] = await db.all(
      sql`SELECT * FROM release_claim WHERE key = ${key}${lock ? d.lockRows(false) : sql``}`,
    );
    return row ? claim(row) : null;
  }

  /** Reserve what is still free for this key (inside the claim's transaction). */
  async function reserve(db: Db, c: ReleaseClaimInput): Promise<string[]> {
    if (c.kind === "quarantine") {
      const free = await db.all(
        sql`SELECT address FROM quarantine_rcpt
            WHERE id = ${c.itemId} AND state = 'quarantined' AND release_key IS NULL
            ORDER BY address${d.lockRows(true)}`,
      );
      const wanted = c.recipients === "all" ? null : new Set(c.recipients.map((r) => r.toLowerCase()));
      const mine = free.map((r) => str(r.address)).filter((a) => !wanted || wanted.has(a));
      if (mine.length) {
        await db.run(
          sql`UPDATE quarantine_rcpt SET release_key = ${c.key} WHERE id = ${c.itemId} AND address${d.in(mine)}`,
        );
      }
      return mine;
    }
    const [hold] = await db.all(
      sql`SELECT envelope FROM hold WHERE id = ${c.itemId} AND state = 'held' AND release_key IS NULL${d.lockRows(true)}`,
    );
    if (!hold) return [];
    await db.run(sql`UPDATE hold SET release_key = ${c.key} WHERE id = ${c.itemId}`);
    return d.json<{ recipients: { address: string }[] }>(hold.envelope).recipients.map((r) => r.address);
  }

  return {
    async claimRelease(c) {
      for (let attempt = 0; ; attempt++) {
        try {
          return await d.tx(async (db) => {
            const existing = await getClaim(db, c.key);
            if (existing) return existing;
            const recipients = await reserve(db, c);
            const now = new Date();
            const [row] = await db.all(
              sql`INSERT INTO release_claim (key, kind, item_id, recipients, actor, state, created_at, updated_at)
                  VALUES (${c.key}, ${c.kind}, ${c.itemId}, ${JSON.stringify(recipients)}, ${c.actor},
                    ${recipients.length ? "claimed" : "done"}, ${now}, ${now})
                  RETURNING *`,
            );
            return claim(row!);
          });
        } catch (err) {
          // Two nodes claimed with the same key at once: the loser reads the winner's claim.
          if (attempt < 3 && d.isUniqueViolation(err)) continue;
          throw err;
        }
      }
    },

    async recordReleaseDelivery(key, accepted, failed) {
      await d.run(
        sql`UPDATE release_claim SET state = 'delivered', accepted = ${JSON.stringify(accepted)},
              failed = ${JSON.stringify(failed)}, updated_at = ${new Date()}
            WHERE key = ${key} AND state = 'claimed'`,
      );
    },

    async finishRelease(key) {
      await d.tx(async (db) => {
        const c = await getClaim(db, key, true);
        if (!c || c.state === "done") return;
        const accepted = c.state === "delivered" ? c.accepted.map((a) => a.toLowerCase()) : [];
        const now = new Date();
        if (c.kind === "quarantine") {
          if (accepted.length) {
            await db.run(
              sql`UPDATE quarantine_rcpt SET state = 'released', updated_at = ${now}
                  WHERE id = ${c.itemId} AND address${d.in(accepted)} AND release_key = ${key}
                    AND state = 'quarantined'`,
            );
          }
          await db.run(
            sql`UPDATE quarantine_rcpt SET release_key = NULL
                WHERE id = ${c.itemId} AND release_key = ${key} AND state = 'quarantined'`,
          );
        } else if (accepted.length) {
          await db.run(
            sql`UPDATE hold SET state = 'released' WHERE id = ${c.itemId} AND release_key = ${key} AND state = 'held'`,
          );
        } else {
          await db.run(
            sql`UPDATE hold SET release_key = NULL WHERE id = ${c.itemId} AND release_key = ${key}`,
          );
        }
        await db.run(sql`UPDATE release_claim SET state = 'done', updated_at = ${now} WHERE key = ${key}`);
      });
    },

    getRelease: (key) => getClaim(d, key),

    async openReleases() {
      const found = await d.all(
        sql`SELECT * FROM release_claim WHERE state <> 'done' ORDER BY created_at, key`,
      );
      return found.map(claim);
    },
  };
}
