// SQLite through node:sqlite (built into Node 24, no native addon): `?` placeholders, times as
// INTEGER ms, JSON as TEXT, BLOBs, 0/1 booleans. WAL with synchronous=FULL, so a committed
// write survives a power cut. node:sqlite is synchronous while our transactions span awaits:
// a statement runs at once unless a transaction is open, else it waits its turn (in order).
import { realpathSync } from "node:fs";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { SQLITE_MIGRATIONS } from "../sqlite-migrations.ts";
import { join, raw, sql, type Query } from "./query.ts";
import type { Db, Dialect, Row } from "./dialect.ts";

const STATEMENT_CACHE = 256;

export class SqliteDialect implements Dialect {
  readonly name = "sqlite";
  readonly migrations = SQLITE_MIGRATIONS;
  readonly groupCommit = true;
  private readonly db: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();
  /** The open transaction's connection view (statements run at once, no queue). */
  private readonly direct: Db;
  private readonly turns: Turns;
  private closing: Promise<void> | null = null;

  /** Opens the database file (its directory must exist). */
  constructor(path: string) {
    this.db = new DatabaseSync(path);
    this.turns = Turns.of(path === ":memory:" ? null : realpathSync(path));
    this.db.exec(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;",
    );
    this.direct = {
      all: async (q) => this.prepare(q).all(...encode(q)) as Row[],
      run: async (q) => Number(this.prepare(q).run(...encode(q)).changes),
      exec: async (script) => this.db.exec(script),
    };
  }

  all(q: Query): Promise<Row[]> {
    return this.serial(() => this.direct.all(q));
  }

  run(q: Query): Promise<number> {
    return this.serial(() => this.direct.run(q));
  }

  exec(script: string): Promise<void> {
    return this.serial(() => this.direct.exec(script));
  }

  tx<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    return this.serial(async () => {
      this.db.exec("BEGIN IMMEDIATE");
      try {
        const out = await fn(this.direct);
        this.db.exec("COMMIT");
        return out;
      } catch (err) {
        if (this.db.isTransaction) this.db.exec("ROLLBACK");
        throw err;
      }
    });
  }

  softTx<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    return this.serial(async () => {
      // Per connection, and no other statement of it runs before we set it back.
      this.db.exec("PRAGMA synchronous=NORMAL; BEGIN IMMEDIATE");
      try {
        const out = await fn(this.direct);
        this.db.exec("COMMIT");
        return out;
      } catch (err) {
        if (this.db.isTransaction) this.db.exec("ROLLBACK");
        throw err;
      } finally {
        this.db.exec("PRAGMA synchronous=FULL");
      }
    });
  }

  softAll(q: Query): Promise<Row[]> {
    return this.softTx((db) => db.all(q));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    return this.turns.take(fn);
  }

  private prepare(q: Query): StatementSync {
    const text = q.parts.join("?");
    let st = this.statements.get(text);
    if (!st) {
      if (this.statements.size >= STATEMENT_CACHE) this.statements.clear();
      st = this.db.prepare(text);
      this.statements.set(text, st);
    }
    return st;
  }

  // BEGIN IMMEDIATE already holds the database's one write lock.
  lockRows(): Query {
    return raw("");
  }

  in(values: readonly unknown[]): Query {
    return sql` IN (${join(
      values.map((v) => sql`${v}`),
      ", ",
    )})`;
  }

  isUniqueViolation(err: unknown): boolean {
    return /UNIQUE constraint failed/.test(String((err as Error)?.message));
  }

  async lockMigrations(): Promise<void> {}

  async notifyConfig(): Promise<void> {}

  time(v: unknown): Date {
    return new Date(Number(v));
  }

  json<T>(v: unknown): T {
    return (v === null || v === undefined ? null : JSON.parse(String(v))) as T;
  }

  blob(v: unknown): Buffer {
    return Buffer.from(v as Uint8Array);
  }

  bool(v: unknown): boolean | null {
    return v === null || v === undefined ? null : Number(v) !== 0;
  }

  async close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = this.turns.take(async () => {
      this.statements.clear();
      this.db.close();
      this.turns.release();
    });
    return this.closing;
  }
}

/**
 * One queue per database file for every connection to it in this process. A transaction holds
 * SQLite's write lock across awaits; another connection of the same process that tried to write
 * meanwhile would block the event loop in busy_timeout, and with it the transaction it waits for.
 * (Other processes only wait: the holder keeps running.)
 */
class Turns {
  private static readonly byFile = new Map<string, Turns>();
  private readonly file: string | null;
  private users = 0;
  private inFlight = 0;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(file: string | null) {
    this.file = file;
  }

  static of(file: string | null): Turns {
    const t = (file !== null && Turns.byFile.get(file)) || new Turns(file);
    if (file !== null) Turns.byFile.set(file, t);
    t.users++;
    return t;
  }

  release(): void {
    if (--this.users === 0 && this.file !== null) Turns.byFile.delete(this.file);
  }

  /** Nothing in flight: run now (synchronously); else after everything queued before. */
  take<T>(fn: () => Promise<T>): Promise<T> {
    this.inFlight++;
    const run = this.inFlight === 1 ? fn() : this.queue.then(fn);
    const done = run.finally(() => this.inFlight--);
    this.queue = done.catch(() => undefined);
    return done;
  }
}

function encode(q: Query): SQLInputValue[] {
  return q.values.map((v) => {
    if (v instanceof Date) return v.getTime();
    if (typeof v === "boolean") return v ? 1 : 0;
    if (v === undefined) return null;
    return v as SQLInputValue;
  });
}
