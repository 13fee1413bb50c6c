// AccountStore in SQL: web console accounts and sessions (keyed by the hash of the cookie
// token; expired ones are swept on write and never returned).
import type { AccountStore, ConsoleAccount, WebSession } from "../types.ts";
import { sql } from "./query.ts";
import { str, strOrNull, type Dialect, type Row } from "./dialect.ts";

export function accountStore(d: Dialect): AccountStore {
  const account = (row: Row): ConsoleAccount => ({
    login: str(row.login),
    role: row.role as ConsoleAccount["role"],
    tenant: strOrNull(row.tenant),
    passwordHash: str(row.password_hash),
    createdAt: d.time(row.created_at),
  });

  return {
    async getAccount(login) {
      const [row] = await d.all(sql`SELECT * FROM console_account WHERE login = ${login}`);
      return row ? account(row) : null;
    },

    async putAccount(a) {
      await d.run(
        sql`INSERT INTO console_account (login, role, tenant, password_hash, created_at)
            VALUES (${a.login}, ${a.role}, ${a.tenant}, ${a.passwordHash}, ${a.createdAt})
            ON CONFLICT (login) DO UPDATE SET role = excluded.role, tenant = excluded.tenant,
              password_hash = excluded.password_hash`,
      );
    },

    async listAccounts() {
      return (await d.all(sql`SELECT * FROM console_account ORDER BY login`)).map(account);
    },

    async putSession(s) {
      await d.run(sql`DELETE FROM web_session WHERE expires_at < ${new Date()}`);
      await d.run(
        sql`INSERT INTO web_session (id, subject, role, tenant, csrf, expires_at)
            VALUES (${s.id}, ${s.subject}, ${s.role}, ${s.tenant}, ${s.csrf}, ${s.expiresAt})`,
      );
    },

    async getSession(id) {
      const [row] = await d.all(
        sql`SELECT * FROM web_session WHERE id = ${id} AND expires_at >= ${new Date()}`,
      );
      if (!row) return null;
      return {
        id: str(row.id),
        subject: str(row.subject),
        role: row.role as WebSession["role"],
        tenant: strOrNull(row.tenant),
        csrf: str(row.csrf),
        expiresAt: d.time(row.expires_at),
      };
    },

    async deleteSession(id) {
      await d.run(sql`DELETE FROM web_session WHERE id = ${id}`);
    },
  };
}
