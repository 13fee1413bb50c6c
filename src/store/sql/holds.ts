// HoldStore in SQL: the hold queue (outbound mail kept until a time or an approval).
import type { HoldItem, HoldState, HoldStore } from "../types.ts";
import { join, Query, sql, where } from "./query.ts";
import { str, strOrNull, type Dialect, type Row } from "./dialect.ts";

const COLS = sql`id, tenant, created_at, release_at, state, reason, envelope, size, approver, approved_by, notice_sent_at`;

export function holdStore(d: Dialect): HoldStore {
  const item = (row: Row): HoldItem => ({
    id: str(row.id),
    tenant: strOrNull(row.tenant),
    createdAt: d.time(row.created_at),
    releaseAt: d.time(row.release_at),
    state: row.state as HoldState,
    reason: str(row.reason),
    envelope: d.json(row.envelope),
    size: Number(row.size),
    approver: strOrNull(row.approver),
    approvedBy: strOrNull(row.approved_by),
    noticeSentAt: row.notice_sent_at === null ? null : d.time(row.notice_sent_at),
  });

  const store: HoldStore = {
    async putHold(h) {
      await d.run(
        sql`INSERT INTO hold (id, tenant, created_at, release_at, state, reason, envelope, size, message)
            VALUES (${h.id}, ${h.tenant}, ${new Date()}, ${h.releaseAt}, 'held', ${h.reason},
              ${JSON.stringify(h.envelope)}, ${h.message.length}, ${h.message})`,
      );
    },

    async deleteHold(id) {
      await d.run(sql`DELETE FROM hold WHERE id = ${id}`);
    },

    async getHold(id) {
      const [row] = await d.all(sql`SELECT ${COLS} FROM hold WHERE id = ${id}`);
      return row ? item(row) : null;
    },

    async listHolds(q) {
      const filter = where([
        q.tenant !== undefined && sql`tenant = ${q.tenant}`,
        q.state !== undefined && sql`state = ${q.state}`,
      ]);
      const found = await d.all(
        sql`SELECT ${COLS} FROM hold${filter} ORDER BY release_at, id LIMIT ${q.limit ?? 100}`,
      );
      return found.map(item);
    },

    async holdMessage(id) {
      const [row] = await d.all(sql`SELECT message FROM hold WHERE id = ${id}`);
      return row ? d.blob(row.message) : null;
    },

    async setHoldState(id, from, to) {
      return (await d.run(sql`UPDATE hold SET state = ${to} WHERE id = ${id} AND state = ${from}`)) > 0;
    },

    async updateHold(id, patch) {
      const sets = [
        patch.releaseAt !== undefined && sql`release_at = ${patch.releaseAt}`,
        patch.approver !== undefined && sql`approver = ${patch.approver}`,
        patch.approvedBy !== undefined && sql`approved_by = ${patch.approvedBy}`,
        patch.noticeSentAt !== undefined && sql`notice_sent_at = ${patch.noticeSentAt}`,
      ].filter((s) => s instanceof Query);
      if (!sets.length) return (await store.getHold(id))?.state === "held";
      const changed = await d.run(
        sql`UPDATE hold SET ${join(sets, ", ")} WHERE id = ${id} AND state = 'held'`,
      );
      return changed > 0;
    },
  };
  return store;
}
