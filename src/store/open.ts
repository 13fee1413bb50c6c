// Opens the store named by the node's `store:` setting (sqlite:PATH; postgres:// in the
// cluster issue) and runs its migrations.
import { SqliteStore } from "./sqlite.ts";
import { StoreError, type Store } from "./types.ts";

export async function openStore(url: string): Promise<Store> {
  let store: Store;
  if (url.startsWith("sqlite:")) store = new SqliteStore(url.slice("sqlite:".length) || ":memory:");
  else if (url.startsWith("postgres://") || url.startsWith("postgresql://")) {
    throw new StoreError("the PostgreSQL store is not available in this build; use sqlite:PATH");
  } else throw new StoreError(`store: unknown store URL "${url}" (expected sqlite:PATH)`);
  await store.migrate();
  return store;
}
