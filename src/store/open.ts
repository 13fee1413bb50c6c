// Opens the store named by the node's `store:` setting (sqlite:PATH for one node,
// postgres://USER@HOST:PORT/DB for a cluster) and runs its migrations.
import { PostgresStore } from "./postgres.ts";
import { SqliteStore } from "./sqlite.ts";
import { StoreError, type Store } from "./types.ts";
import { assertSchemaNotNewer, StoreSchemaError } from "./schema-version.ts";

export async function openStore(url: string): Promise<Store> {
  let store: Store;
  if (url.startsWith("sqlite:")) store = new SqliteStore(url.slice("sqlite:".length) || ":memory:");
  else if (url.startsWith("postgres://") || url.startsWith("postgresql://")) store = new PostgresStore(url);
  else throw new StoreError(`store: unknown store URL "${url}" (expected sqlite:PATH or postgres://…)`);
  // A schema a newer Sluice migrated is refused before anything reads or writes it.
  await assertSchemaNotNewer(url).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  await store.migrate();
  return store;
}

/**
 * Like openStore, but a PostgreSQL store that does not answer is returned unmigrated together
 * with the error, so a cluster node can start on its cached revision and retry (`migrate()`
 * again) instead of exiting. Other errors (a bad URL, SQLite) still throw.
 */
export async function openStoreLenient(url: string): Promise<{ store: Store; error: StoreError | null }> {
  if (!url.startsWith("postgres://") && !url.startsWith("postgresql://"))
    return { store: await openStore(url), error: null };
  const store = new PostgresStore(url);
  try {
    await assertSchemaNotNewer(url);
    await store.migrate();
    return { store, error: null };
  } catch (err) {
    if (err instanceof StoreError && !(err instanceof StoreSchemaError)) return { store, error: err };
    throw err;
  }
}
