// What differs between the SQL backends, and nothing else: how statements run (placeholders,
// transactions, row locks), how column values come back (times, JSON, blobs, booleans), lists,
// notices, migrations. The statements and state rules themselves live in the role files here.
import { raw, rows, sql, type Query } from "./query.ts";

export type Row = Record<string, unknown>;

/** A connection, or an open transaction handed to `tx`'s callback. */
export interface Db {
  all(q: Query): Promise<Row[]>;
  /** Rows changed. */
  run(q: Query): Promise<number>;
  /** A script without parameters (migrations). */
  exec(script: string): Promise<void>;
}

export interface Dialect extends Db {
  readonly name: "sqlite" | "postgres";
  /** Versioned schema steps of this backend (never renumbered). */
  readonly migrations: readonly string[];
  /** Message-log writes share one transaction per few milliseconds (SQLite: one fsync per batch). */
  readonly groupCommit: boolean;

  /**
   * Run fn in one transaction that holds the write lock (SQLite: BEGIN IMMEDIATE, statements
   * from other callers wait; PostgreSQL: BEGIN on a pooled connection). Inside fn use only `db`.
   */
  tx<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  /**
   * tx for soft state (greylisting, rate counters) that may be lost in a power cut but is never
   * left inconsistent: SQLite commits it without fsync (synchronous=NORMAL in WAL mode; the next
   * normal commit syncs it), PostgreSQL with synchronous_commit off.
   */
  softTx<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  /** One statement with the durability of softTx (PostgreSQL: autocommit, one round trip). */
  softAll(q: Query): Promise<Row[]>;
  /** Row locks for a SELECT in a transaction (PostgreSQL FOR UPDATE [SKIP LOCKED]; SQLite: none needed). */
  lockRows(skipLocked: boolean): Query;
  /** ` IN (…)` of a list (PostgreSQL: ` = ANY($n)`, one array parameter). */
  in(values: readonly unknown[]): Query;
  /** A duplicate key: two writers raced for the same row (the loser retries and reads). */
  isUniqueViolation(err: unknown): boolean;
  /** Serialise concurrent migrations (inside the migration transaction). */
  lockMigrations(db: Db): Promise<void>;
  /** Tell other nodes a configuration revision or shadow run changed (on commit). */
  notifyConfig(db: Db, role: string, rev: number): Promise<void>;

  time(v: unknown): Date;
  json<T>(v: unknown): T;
  blob(v: unknown): Buffer;
  bool(v: unknown): boolean | null;

  close(): Promise<void>;
}

export const str = (v: unknown): string => String(v);
export const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** `head VALUES (…), (…) tail` for any number of rows, in statements of at most 500 rows. */
export async function insertRows(
  db: Db,
  head: Query,
  values: readonly (readonly unknown[])[],
  tail: Query = raw(""),
): Promise<void> {
  for (let i = 0; i < values.length; i += 500) {
    await db.run(sql`${head} VALUES ${rows(values.slice(i, i + 500))}${tail}`);
  }
}
