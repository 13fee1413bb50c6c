// DkimKeyStore in SQL: signing keys by (domain, selector); the private key only as the blob the
// caller sealed (src/filters/auth/key-store.ts).
import type { DkimKeyRecord, DkimKeyStore } from "../types.ts";
import { sql, where } from "./query.ts";
import { str, strOrNull, type Dialect, type Row } from "./dialect.ts";

export function dkimKeyStore(d: Dialect): DkimKeyStore {
  const key = (row: Row): DkimKeyRecord => ({
    domain: str(row.domain),
    selector: str(row.selector),
    tenant: strOrNull(row.tenant),
    algorithm: row.algorithm as DkimKeyRecord["algorithm"],
    publicKey: str(row.public_key),
    sealedKey: d.blob(row.sealed_key),
    createdAt: d.time(row.created_at),
  });

  return {
    async putDkimKey(k) {
      await d.run(
        sql`INSERT INTO dkim_key (domain, selector, tenant, algorithm, public_key, sealed_key, created_at)
            VALUES (${k.domain.toLowerCase()}, ${k.selector}, ${k.tenant}, ${k.algorithm}, ${k.publicKey},
              ${k.sealedKey}, ${k.createdAt})
            ON CONFLICT (domain, selector) DO UPDATE SET tenant = excluded.tenant, algorithm = excluded.algorithm,
              public_key = excluded.public_key, sealed_key = excluded.sealed_key, created_at = excluded.created_at`,
      );
    },

    async getDkimKey(domain, selector) {
      const d0 = domain.toLowerCase();
      const [row] = await d.all(
        selector === undefined
          ? sql`SELECT * FROM dkim_key WHERE domain = ${d0} ORDER BY created_at DESC, selector DESC LIMIT 1`
          : sql`SELECT * FROM dkim_key WHERE domain = ${d0} AND selector = ${selector}`,
      );
      return row ? key(row) : null;
    },

    async listDkimKeys(q) {
      const filter = where([
        q.tenant !== undefined && sql`tenant = ${q.tenant}`,
        q.domain !== undefined && sql`domain = ${q.domain.toLowerCase()}`,
      ]);
      return (await d.all(sql`SELECT * FROM dkim_key${filter} ORDER BY domain, selector`)).map(key);
    },
  };
}
