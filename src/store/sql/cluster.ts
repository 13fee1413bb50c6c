// ConfigRevisionStore in SQL: published configuration revisions (numbered across roles), node
// heartbeats and shadow runs. Changes that nodes must pick up are announced through the
// dialect (PostgreSQL NOTIFY on commit; SQLite has one node and nothing to tell).
import type { ConfigRevision, ConfigRevisionStore, NodeHeartbeat, ShadowRun } from "../types.ts";
import { sql, where } from "./query.ts";
import { insertRows, numOrNull, str, strOrNull, type Dialect, type Row } from "./dialect.ts";

export function configRevisionStore(d: Dialect): ConfigRevisionStore {
  const revision = (row: Row): ConfigRevision => ({
    rev: Number(row.rev),
    role: str(row.role),
    text: str(row.text),
    author: str(row.author),
    note: strOrNull(row.note),
    rollbackOf: numOrNull(row.rollback_of),
    createdAt: d.time(row.created_at),
  });

  const shadow = (row: Row): ShadowRun => ({
    id: Number(row.id),
    role: str(row.role),
    text: str(row.text),
    author: str(row.author),
    note: strOrNull(row.note),
    nodes: d.json(row.nodes),
    state: row.state as ShadowRun["state"],
    createdAt: d.time(row.created_at),
  });

  return {
    async publishConfig(r) {
      return d.tx(async (db) => {
        const [row] = await db.all(
          sql`INSERT INTO config_revision (role, text, author, note, rollback_of, created_at)
              VALUES (${r.role}, ${r.text}, ${r.author}, ${r.note}, ${r.rollbackOf}, ${new Date()}) RETURNING *`,
        );
        const rev = revision(row!);
        await d.notifyConfig(db, rev.role, rev.rev);
        return rev;
      });
    },

    async getConfigRevision(rev) {
      const [row] = await d.all(sql`SELECT * FROM config_revision WHERE rev = ${rev}`);
      return row ? revision(row) : null;
    },

    async latestConfigRevision(role) {
      const [row] = await d.all(
        sql`SELECT * FROM config_revision WHERE role = ${role} ORDER BY rev DESC LIMIT 1`,
      );
      return row ? revision(row) : null;
    },

    async listConfigRevisions(q) {
      const found = await d.all(
        sql`SELECT * FROM config_revision${where([q.role !== undefined && sql`role = ${q.role}`])}
            ORDER BY rev DESC LIMIT ${q.limit ?? 100}`,
      );
      return found.map(revision);
    },

    async putHeartbeat(h) {
      await d.run(
        sql`INSERT INTO node_heartbeat (name, role, version, started_at, seen_at, applied_rev, health, failed_rev, error)
            VALUES (${h.name}, ${h.role}, ${h.version}, ${h.startedAt}, ${h.seenAt}, ${h.appliedRev}, ${h.health},
              ${h.failedRev}, ${h.error})
            ON CONFLICT (name) DO UPDATE SET role = excluded.role, version = excluded.version,
              started_at = excluded.started_at, seen_at = excluded.seen_at, applied_rev = excluded.applied_rev,
              health = excluded.health, failed_rev = excluded.failed_rev, error = excluded.error`,
      );
    },

    async listHeartbeats() {
      const found = await d.all(sql`SELECT * FROM node_heartbeat ORDER BY name`);
      return found.map((r) => ({
        name: str(r.name),
        role: str(r.role),
        version: str(r.version),
        startedAt: d.time(r.started_at),
        seenAt: d.time(r.seen_at),
        appliedRev: numOrNull(r.applied_rev),
        health: r.health as NodeHeartbeat["health"],
        failedRev: numOrNull(r.failed_rev),
        error: strOrNull(r.error),
      }));
    },

    // Shadow runs are announced on the revision channel too (rev 0): agents re-read what to shadow.
    async startShadow(x) {
      return d.tx(async (db) => {
        const [row] = await db.all(
          sql`INSERT INTO config_shadow (role, text, author, note, nodes, state, created_at)
              VALUES (${x.role}, ${x.text}, ${x.author}, ${x.note}, ${JSON.stringify(x.nodes)}, 'running', ${new Date()})
              RETURNING *`,
        );
        await d.notifyConfig(db, x.role, 0);
        return shadow(row!);
      });
    },

    async getShadow(id) {
      const [row] = await d.all(sql`SELECT * FROM config_shadow WHERE id = ${id}`);
      return row ? shadow(row) : null;
    },

    async listShadows(q) {
      const filter = where([
        q.role !== undefined && sql`role = ${q.role}`,
        q.state !== undefined && sql`state = ${q.state}`,
      ]);
      return (await d.all(sql`SELECT * FROM config_shadow${filter} ORDER BY id DESC`)).map(shadow);
    },

    async endShadow(id, state) {
      return d.tx(async (db) => {
        const [row] = await db.all(
          sql`UPDATE config_shadow SET state = ${state} WHERE id = ${id} AND state = 'running' RETURNING role`,
        );
        if (!row) return false;
        await d.notifyConfig(db, str(row.role), 0);
        return true;
      });
    },

    async recordShadow(id, node, evaluated, diffs) {
      await d.tx(async (db) => {
        await db.run(
          sql`INSERT INTO shadow_count (shadow_id, node, evaluated) VALUES (${id}, ${node}, ${evaluated})
              ON CONFLICT (shadow_id, node) DO UPDATE SET evaluated = shadow_count.evaluated + excluded.evaluated`,
        );
        await insertRows(
          db,
          sql`INSERT INTO shadow_diff (shadow_id, node, message_id, at, sender, recipient, live_action, shadow_action)`,
          diffs.map((x) => [
            id,
            node,
            x.messageId,
            x.at,
            x.sender,
            x.recipient,
            x.liveAction,
            x.shadowAction,
          ]),
        );
      });
    },

    async shadowReport(id, limit = 1000) {
      const counts = await d.all(sql`SELECT node, evaluated FROM shadow_count WHERE shadow_id = ${id}`);
      const diffs = await d.all(
        sql`SELECT * FROM shadow_diff WHERE shadow_id = ${id} ORDER BY seq DESC LIMIT ${limit}`,
      );
      return {
        evaluated: Object.fromEntries(counts.map((c) => [str(c.node), Number(c.evaluated)])),
        diffs: diffs.map((x) => ({
          node: str(x.node),
          messageId: str(x.message_id),
          at: d.time(x.at),
          sender: str(x.sender),
          recipient: str(x.recipient),
          liveAction: str(x.live_action),
          shadowAction: str(x.shadow_action),
        })),
      };
    },
  };
}
