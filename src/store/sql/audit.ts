// AuditStore in SQL: who changed what in the console, newest first.
import type { AuditStore } from "../types.ts";
import { sql, where } from "./query.ts";
import { str, strOrNull, type Dialect } from "./dialect.ts";

export function auditStore(d: Dialect): AuditStore {
  return {
    async appendAudit(e) {
      await d.run(
        sql`INSERT INTO audit_log (at, actor, action, target, tenant, before, after)
            VALUES (${e.at}, ${e.actor}, ${e.action}, ${e.target}, ${e.tenant},
              ${JSON.stringify(e.before ?? null)}, ${JSON.stringify(e.after ?? null)})`,
      );
    },

    async listAudit(q) {
      const found = await d.all(
        sql`SELECT * FROM audit_log${where([q.tenant !== undefined && sql`tenant = ${q.tenant}`])}
            ORDER BY seq DESC LIMIT ${q.limit ?? 100}`,
      );
      return found.map((r) => ({
        at: d.time(r.at),
        actor: str(r.actor),
        action: str(r.action),
        target: str(r.target),
        tenant: strOrNull(r.tenant),
        before: d.json(r.before),
        after: d.json(r.after),
      }));
    },
  };
}
