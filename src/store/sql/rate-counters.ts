// RateCounterStore in SQL: fixed-window counters, one multi-row upsert per call that returns each
// key's count in this window and the window before (for the sliding estimate), so a check costs
// one round trip. Relaxed durability (softAll): SQLite without fsync, PostgreSQL on an UNLOGGED
// table (no WAL, so its commit waits for no flush).
import type { RateCounterStore } from "../types.ts";
import { join, sql } from "./query.ts";
import type { Dialect } from "./dialect.ts";

export function rateCounterStore(d: Dialect): RateCounterStore {
  return {
    async countRates(hits, windowS, now) {
      if (hits.length === 0) return [];
      const win = Math.floor(now.getTime() / 1000 / windowS) * windowS;
      // Several hits on one key add up in one row (an upsert may touch a row only once).
      const sums = new Map<string, number>();
      for (const h of hits) sums.set(h.key, (sums.get(h.key) ?? 0) + h.amount);
      const values = join(
        [...sums].map(([key, amount]) => sql`(${key}, ${win}, ${amount})`),
        ", ",
      );
      const rows = await d.softAll(
        sql`INSERT INTO rate_counter (key, window_start, count) VALUES ${values}
            ON CONFLICT (key, window_start) DO UPDATE SET count = rate_counter.count + excluded.count
            RETURNING key, count,
              (SELECT p.count FROM rate_counter p WHERE p.key = rate_counter.key AND p.window_start = ${win - windowS}) AS previous`,
      );
      const byKey = new Map(rows.map((r) => [String(r.key), r]));
      return [...sums.keys()].map((key) => {
        const r = byKey.get(key);
        return { key, current: Number(r?.count ?? 0), previous: Number(r?.previous ?? 0) };
      });
    },

    async pruneRates(before) {
      return d.softTx((db) =>
        db.run(sql`DELETE FROM rate_counter WHERE window_start < ${Math.floor(before.getTime() / 1000)}`),
      );
    },
  };
}
