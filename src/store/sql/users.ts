// UserStore in SQL: built-in directory users, their aliases and white/black lists.
import { ListLimitError, StoreError, type ListKind, type StoredUser, type UserStore } from "../types.ts";
import { sql } from "./query.ts";
import { insertRows, str, strOrNull, type Db, type Dialect, type Row } from "./dialect.ts";

export function userStore(d: Dialect): UserStore {
  /** Users of these rows with their aliases and lists (two queries for any number of users). */
  async function withLists(db: Db, users: Row[]): Promise<StoredUser[]> {
    if (!users.length) return [];
    const addresses = users.map((u) => str(u.address));
    const aliases = await db.all(
      sql`SELECT address, alias FROM user_aliases WHERE address${d.in(addresses)} ORDER BY alias`,
    );
    const lists = await db.all(
      sql`SELECT address, kind, entry FROM user_lists WHERE address${d.in(addresses)} ORDER BY kind, position`,
    );
    return users.map((row) => {
      const mine = (r: Row) => r.address === row.address;
      const list = (kind: ListKind) =>
        lists.filter((l) => mine(l) && l.kind === kind).map((l) => str(l.entry));
      return {
        id: str(row.id),
        tenant: str(row.tenant),
        address: str(row.address),
        aliases: aliases.filter(mine).map((r) => str(r.alias)),
        language: strOrNull(row.language) as StoredUser["language"],
        spamFilter: d.bool(row.spam_filter),
        thresholds: d.json(row.thresholds),
        whitelist: list("whitelist"),
        blacklist: list("blacklist"),
        sendAs: d.json(row.send_as),
        passwordHash: strOrNull(row.password_hash),
      };
    });
  }

  async function writeList(db: Db, address: string, kind: ListKind, entries: string[]): Promise<void> {
    await db.run(sql`DELETE FROM user_lists WHERE address = ${address} AND kind = ${kind}`);
    await insertRows(
      db,
      sql`INSERT INTO user_lists (address, kind, position, entry)`,
      entries.map((e, i) => [address, kind, i, e.toLowerCase()]),
    );
  }

  return {
    async getUser(address) {
      const a = address.toLowerCase();
      const found = await d.all(
        sql`SELECT u.* FROM users u WHERE u.address = ${a}
            UNION SELECT u.* FROM users u JOIN user_aliases x ON x.address = u.address WHERE x.alias = ${a}`,
      );
      return (await withLists(d, found.slice(0, 1)))[0] ?? null;
    },

    async putUser(u) {
      const address = u.address.toLowerCase();
      await d.tx(async (db) => {
        await db.run(
          sql`INSERT INTO users (address, id, tenant, language, spam_filter, thresholds, send_as, password_hash)
              VALUES (${address}, ${u.id}, ${u.tenant}, ${u.language}, ${u.spamFilter},
                ${JSON.stringify(u.thresholds)}, ${JSON.stringify(u.sendAs)}, ${u.passwordHash})
              ON CONFLICT (address) DO UPDATE SET id = excluded.id, tenant = excluded.tenant,
                language = excluded.language, spam_filter = excluded.spam_filter,
                thresholds = excluded.thresholds, send_as = excluded.send_as,
                password_hash = excluded.password_hash`,
        );
        await db.run(sql`DELETE FROM user_aliases WHERE address = ${address}`);
        await insertRows(
          db,
          sql`INSERT INTO user_aliases (alias, address)`,
          u.aliases.map((a) => [a.toLowerCase(), address]),
        );
        await writeList(db, address, "whitelist", u.whitelist);
        await writeList(db, address, "blacklist", u.blacklist);
      });
    },

    async deleteUser(address) {
      return (await d.run(sql`DELETE FROM users WHERE address = ${address.toLowerCase()}`)) > 0;
    },

    async listUsers(tenant) {
      return withLists(d, await d.all(sql`SELECT * FROM users WHERE tenant = ${tenant} ORDER BY address`));
    },

    async setList(address, kind, entries, maxEntries) {
      if (entries.length > maxEntries) throw new ListLimitError(kind, maxEntries, entries.length);
      const a = address.toLowerCase();
      await d.tx(async (db) => {
        const exists = await db.all(sql`SELECT 1 AS x FROM users WHERE address = ${a}${d.lockRows(false)}`);
        if (!exists.length) throw new StoreError(`no such user: ${a}`);
        await writeList(db, a, kind, entries);
      });
    },
  };
}
