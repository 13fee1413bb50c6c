// UserOverrideStore in SQL: what a user of the configuration file or of LDAP changed for
// themselves in the portal (spam filter, language, white/blacklist), kept beside the directory
// and laid over its answer (src/policy/override-directory.ts). One row per address and tenant.
import { ListLimitError, type UserOverride, type UserOverrideStore } from "../types.ts";
import { sql } from "./query.ts";
import { str, strOrNull, type Dialect, type Row } from "./dialect.ts";

export function userOverrideStore(d: Dialect): UserOverrideStore {
  const list = (v: unknown): string[] | null => (v === null || v === undefined ? null : d.json<string[]>(v));
  const row = (r: Row): UserOverride => ({
    address: str(r.address),
    tenant: str(r.tenant),
    spamFilter: d.bool(r.spam_filter),
    language: strOrNull(r.language) as UserOverride["language"],
    whitelist: list(r.whitelist),
    blacklist: list(r.blacklist),
    updatedAt: d.time(r.updated_at),
    updatedBy: str(r.updated_by),
  });
  const json = (l: string[] | null) => (l === null ? null : JSON.stringify(l.map((e) => e.toLowerCase())));

  return {
    async getUserOverride(address) {
      const [r] = await d.all(sql`SELECT * FROM user_overrides WHERE address = ${address.toLowerCase()}`);
      return r ? row(r) : null;
    },

    async putUserOverride(o, maxEntries) {
      for (const kind of ["whitelist", "blacklist"] as const) {
        const l = o[kind];
        if (l && l.length > maxEntries) throw new ListLimitError(kind, maxEntries, l.length);
      }
      await d.run(
        sql`INSERT INTO user_overrides (address, tenant, spam_filter, language, whitelist, blacklist, updated_at, updated_by)
            VALUES (${o.address.toLowerCase()}, ${o.tenant}, ${o.spamFilter}, ${o.language}, ${json(o.whitelist)},
              ${json(o.blacklist)}, ${new Date()}, ${o.updatedBy})
            ON CONFLICT (address) DO UPDATE SET tenant = excluded.tenant, spam_filter = excluded.spam_filter,
              language = excluded.language, whitelist = excluded.whitelist, blacklist = excluded.blacklist,
              updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
      );
    },

    async deleteUserOverride(address) {
      return (await d.run(sql`DELETE FROM user_overrides WHERE address = ${address.toLowerCase()}`)) > 0;
    },

    async listUserOverrides(tenant) {
      return (await d.all(sql`SELECT * FROM user_overrides WHERE tenant = ${tenant} ORDER BY address`)).map(
        row,
      );
    },
  };
}
