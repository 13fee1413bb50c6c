// JobStore in SQL: single-use tokens (release links) and named high-water marks of jobs.
import type { JobStore } from "../types.ts";
import { sql } from "./query.ts";
import type { Dialect } from "./dialect.ts";

export function jobStore(d: Dialect): JobStore {
  return {
    async consumeToken(key, expiresAt) {
      return d.tx(async (db) => {
        await db.run(sql`DELETE FROM once_token WHERE expires_at < ${new Date()}`);
        const added = await db.run(
          sql`INSERT INTO once_token (key, expires_at) VALUES (${key}, ${expiresAt}) ON CONFLICT (key) DO NOTHING`,
        );
        return added > 0;
      });
    },

    async getCursor(name) {
      const [row] = await d.all(sql`SELECT at FROM job_cursor WHERE name = ${name}`);
      return row ? d.time(row.at) : null;
    },

    async setCursor(name, at) {
      await d.run(
        sql`INSERT INTO job_cursor (name, at) VALUES (${name}, ${at}) ON CONFLICT (name) DO UPDATE SET at = excluded.at`,
      );
    },
  };
}
