// PostgreSQL through `pg` with a connection pool: `$n` placeholders, timestamptz, jsonb, bytea,
// arrays as one parameter (= ANY), row locks with FOR UPDATE SKIP LOCKED so one node wins a
// claim, NOTIFY of configuration changes. Every error becomes a StoreError (fail fast while the
// database is away: connect and query timeouts).
import pg from "pg";
import { POSTGRES_MIGRATIONS } from "../postgres-migrations.ts";
import { ListLimitError, StoreError } from "../types.ts";
import { raw, sql, type Query } from "./query.ts";
import type { Db, Dialect, Row } from "./dialect.ts";

/** NOTIFY channel of new configuration revisions; payload {"role","rev"}. */
export const CONFIG_CHANNEL = "sluice_config";
const MIGRATION_LOCK = 0x511ce;

export interface PostgresOptions {
  /** Pool size (default 10). */
  max?: number;
  /** Give up connecting after this long (default 3000 ms), so an outage fails fast. */
  connectTimeoutMs?: number;
  /** Give up on a query after this long (default 10 s): a hung server becomes an error, not a hang. */
  queryTimeoutMs?: number;
}

type Client = Pick<pg.PoolClient, "query">;

export class PostgresDialect implements Dialect {
  readonly name = "postgres";
  readonly migrations = POSTGRES_MIGRATIONS;
  readonly groupCommit = false;
  readonly pool: pg.Pool;
  readonly url: string;
  readonly connectTimeoutMs: number;
  private closed = false;

  constructor(url: string, opts: PostgresOptions = {}) {
    this.url = url;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 3000;
    this.pool = new pg.Pool({
      connectionString: url,
      max: opts.max ?? 10,
      connectionTimeoutMillis: this.connectTimeoutMs,
      query_timeout: opts.queryTimeoutMs ?? 10_000,
      idleTimeoutMillis: 30_000,
    });
    // An idle client whose server went away emits here; without a listener the process dies.
    // The pool drops that client and opens a fresh one on the next query.
    this.pool.on("error", () => undefined);
  }

  all(q: Query): Promise<Row[]> {
    return all(this.pool, q);
  }

  run(q: Query): Promise<number> {
    return run(this.pool, q);
  }

  exec(script: string): Promise<void> {
    return exec(this.pool, script);
  }

  async tx<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw wrap(err);
    }
    let broken = false;
    try {
      await client.query("BEGIN");
      const out = await fn({
        all: (q) => all(client, q),
        run: (q) => run(client, q),
        exec: (s) => exec(client, s),
      });
      await client.query("COMMIT");
      return out;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {
        broken = true;
      });
      throw wrap(err);
    } finally {
      client.release(broken);
    }
  }

  softTx<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    return this.tx(async (db) => {
      await db.exec("SET LOCAL synchronous_commit = off");
      return fn(db);
    });
  }

  // Callers use it on UNLOGGED tables, whose commits never wait for a WAL flush.
  softAll(q: Query): Promise<Row[]> {
    return all(this.pool, q);
  }

  lockRows(skipLocked: boolean): Query {
    return raw(skipLocked ? " FOR UPDATE SKIP LOCKED" : " FOR UPDATE");
  }

  in(values: readonly unknown[]): Query {
    return sql` = ANY(${[...values]})`;
  }

  isUniqueViolation(err: unknown): boolean {
    const cause = (err as { cause?: { code?: string } }).cause;
    return (cause?.code ?? (err as { code?: string }).code) === "23505";
  }

  // Nodes starting together: one migrates, the others wait and then find nothing to do.
  async lockMigrations(db: Db): Promise<void> {
    await db.all(sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
  }

  // Delivered to listeners when the transaction commits, never before.
  async notifyConfig(db: Db, role: string, rev: number): Promise<void> {
    await db.all(sql`SELECT pg_notify(${CONFIG_CHANNEL}, ${JSON.stringify({ role, rev })})`);
  }

  time(v: unknown): Date {
    return v as Date;
  }

  json<T>(v: unknown): T {
    return (v ?? null) as T;
  }

  blob(v: unknown): Buffer {
    return v as Buffer;
  }

  bool(v: unknown): boolean | null {
    return (v as boolean | null) ?? null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

async function all(c: Client, q: Query): Promise<Row[]> {
  const { text, values } = q.render((i) => `$${i + 1}`);
  try {
    return (await c.query(text, values)).rows as Row[];
  } catch (err) {
    throw wrap(err);
  }
}

async function run(c: Client, q: Query): Promise<number> {
  const { text, values } = q.render((i) => `$${i + 1}`);
  try {
    return (await c.query(text, values)).rowCount ?? 0;
  } catch (err) {
    throw wrap(err);
  }
}

async function exec(c: Client, script: string): Promise<void> {
  try {
    await c.query(script);
  } catch (err) {
    throw wrap(err);
  }
}

function wrap(err: unknown): unknown {
  // Our own errors and list limits pass through; driver and network errors become StoreError.
  if (err instanceof StoreError || err instanceof ListLimitError) return err;
  return new StoreError(`PostgreSQL: ${(err as Error).message}`, { cause: err });
}
