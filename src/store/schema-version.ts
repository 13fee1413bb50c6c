// The store's schema version, read on a connection of its own before the store is opened: how
// far a database is migrated, how far this build can take it, and a refusal to open a database a
// newer Sluice has migrated (its rows could be misread, and migrating "back" does not exist).
import { existsSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import pg from "pg";
import { POSTGRES_MIGRATIONS } from "./postgres-migrations.ts";
import { SQLITE_MIGRATIONS } from "./sqlite-migrations.ts";
import { StoreError } from "./types.ts";

export interface SchemaStatus {
  /** Migrations applied to the database (0: a new, empty one). */
  current: number;
  /** Migrations this build knows. */
  known: number;
}

export function isPostgresUrl(url: string): boolean {
  return url.startsWith("postgres://") || url.startsWith("postgresql://");
}

/** The schema version of the store at `url` (sqlite:PATH or postgres://…); throws StoreError. */
export async function schemaStatus(url: string): Promise<SchemaStatus> {
  if (url.startsWith("sqlite:")) {
    const path = url.slice("sqlite:".length);
    const known = SQLITE_MIGRATIONS.length;
    if (!path || path === ":memory:" || !existsSync(path)) return { current: 0, known };
    let db: DatabaseSync | undefined;
    try {
      db = new DatabaseSync(path, { readOnly: true });
      const table = db
        .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'")
        .get();
      if (!table) return { current: 0, known };
      const row = db.prepare("SELECT MAX(version) AS v FROM schema_version").get() as { v: number | null };
      return { current: Number(row.v ?? 0), known };
    } catch (err) {
      throw new StoreError(`store ${path}: cannot read its schema version: ${(err as Error).message}`, {
        cause: err,
      });
    } finally {
      db?.close();
    }
  }
  if (isPostgresUrl(url)) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
    try {
      await client.connect();
      const exists = await client.query("SELECT to_regclass('schema_version') AS t");
      if (!exists.rows[0]?.t) return { current: 0, known: POSTGRES_MIGRATIONS.length };
      const r = await client.query("SELECT MAX(version) AS v FROM schema_version");
      return { current: Number(r.rows[0]?.v ?? 0), known: POSTGRES_MIGRATIONS.length };
    } catch (err) {
      throw new StoreError(
        `store ${redact(url)}: cannot read its schema version: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  throw new StoreError(`store: unknown store URL "${url}" (expected sqlite:PATH or postgres://…)`);
}

/** The database was migrated by a newer Sluice: never "down" (retried), always a refusal. */
export class StoreSchemaError extends StoreError {
  constructor(message: string) {
    super(message);
    this.name = "StoreSchemaError";
  }
}

/** Refuse a database migrated by a newer Sluice: the operator must run that one, or restore. */
export async function assertSchemaNotNewer(url: string): Promise<SchemaStatus> {
  const s = await schemaStatus(url);
  if (s.current > s.known) {
    throw new StoreSchemaError(
      `store ${redact(url)} has schema version ${s.current}, newer than this Sluice knows (${s.known}): ` +
        "it was migrated by a newer version. Run that version, or restore the backup taken before the " +
        "upgrade (docs/upgrade.md); Sluice never migrates a schema back.",
    );
  }
  return s;
}

/** A store URL without its password, for messages and logs. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@/]*@/, "$1:***@");
}
