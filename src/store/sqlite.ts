// The embedded store: SQLite through node:sqlite, one node only (a cluster uses PostgreSQL).
// Statements and rules are the shared SQL layer's (sql/); this only prepares the file.
import { SqlStore } from "./sql/store.ts";
import { SqliteDialect } from "./sql/sqlite-dialect.ts";
import { prepareSqliteFiles } from "./sqlite-files.ts";

export class SqliteStore extends SqlStore {
  /** A file path, or ":memory:". */
  constructor(path: string) {
    if (path !== ":memory:") prepareSqliteFiles(path);
    super(new SqliteDialect(path));
  }
}
