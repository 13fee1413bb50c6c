import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { storeContract } from "./contract.ts";
import { SqliteStore } from "./sqlite.ts";

storeContract(
  "SQLite",
  async () => new SqliteStore(join(mkdtempSync(join(tmpdir(), "sluice-store-")), "s.db")),
);
