// The console views' store contract (contract-console.ts) on SQLite and, when the `postgresql`
// package is there, on a throwaway PostgreSQL (CI: required).
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, it } from "vitest";
import { consoleStoreContract } from "./contract-console.ts";
import { SqliteStore } from "./sqlite.ts";
import { PostgresStore } from "./postgres.ts";
import { postgresMissing, startPostgres, type Postgres } from "../../test/helpers/postgres.ts";

consoleStoreContract(
  "SQLite",
  async () => new SqliteStore(join(mkdtempSync(join(tmpdir(), "sluice-cs-")), "s.db")),
);

const missing = postgresMissing();
if (missing) {
  describe("console store on PostgreSQL", () => {
    it.skip(`skipped: ${missing}`, () => undefined);
  });
} else {
  let pg: Postgres;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await pg?.destroy();
  });
  consoleStoreContract("PostgreSQL", async () => new PostgresStore(await pg.database()));
}
