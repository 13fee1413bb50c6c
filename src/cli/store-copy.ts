// `sluice store copy FROM TO`: every row of one store into another, empty one — SQLite to
// PostgreSQL when a node becomes a cluster, or back. Both are first migrated to this build's
// schema (they share table and column names); values are converted by the PostgreSQL side's
// column types (timestamptz ↔ ms, jsonb ↔ JSON text, boolean ↔ 0/1, bytea ↔ BLOB). One
// transaction on the target: a copy that fails leaves it empty. Run it with the node stopped.
import { existsSync } from "node:fs";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import pg from "pg";
import { openStore } from "../store/open.ts";
import { isPostgresUrl, redact } from "../store/schema-version.ts";
import { CliUsageError } from "./quarantine.ts";

type Row = Record<string, unknown>;

interface Column {
  name: string;
  /** PostgreSQL data_type, or SQLite's declared type. */
  type: string;
  /** PostgreSQL GENERATED … AS IDENTITY. */
  identity: boolean;
}

/** One database, spoken to directly (the Store interface has no "every row" question). */
interface Raw {
  readonly kind: "sqlite" | "postgres";
  tables(): Promise<string[]>;
  columns(table: string): Promise<Column[]>;
  /** Parent tables (foreign keys) of each table. */
  parents(): Promise<Map<string, Set<string>>>;
  count(table: string): Promise<number>;
  read(table: string, batch: number): AsyncIterable<Row[]>;
  begin(): Promise<void>;
  insert(table: string, columns: Column[], rows: unknown[][]): Promise<void>;
  /** After a table is filled: identity sequences continue after the copied rows. */
  finish(table: string, columns: Column[]): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  close(): Promise<void>;
}

const SKIP = new Set(["schema_version", "sqlite_sequence"]);
const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

class SqliteRaw implements Raw {
  readonly kind = "sqlite";
  private readonly db: DatabaseSync;
  constructor(path: string) {
    this.db = new DatabaseSync(path);
  }
  async tables() {
    const rows = this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid").all();
    return rows.map((r) => String(r.name)).filter((n) => !SKIP.has(n));
  }
  async columns(table: string) {
    return this.db
      .prepare(`PRAGMA table_info(${q(table)})`)
      .all()
      .map((r) => ({ name: String(r.name), type: String(r.type).toUpperCase(), identity: false }));
  }
  async parents() {
    const out = new Map<string, Set<string>>();
    for (const t of await this.tables()) {
      const fks = this.db.prepare(`PRAGMA foreign_key_list(${q(t)})`).all();
      out.set(t, new Set(fks.map((f) => String(f.table))));
    }
    return out;
  }
  async count(table: string) {
    return Number((this.db.prepare(`SELECT COUNT(*) AS n FROM ${q(table)}`).get() as { n: number }).n);
  }
  async *read(table: string, batch: number) {
    let rows: Row[] = [];
    for (const r of this.db.prepare(`SELECT * FROM ${q(table)}`).iterate()) {
      rows.push(r as Row);
      if (rows.length === batch) {
        yield rows;
        rows = [];
      }
    }
    if (rows.length) yield rows;
  }
  async begin() {
    this.db.exec("BEGIN IMMEDIATE");
  }
  async insert(table: string, columns: Column[], rows: unknown[][]) {
    const stmt = this.db.prepare(
      `INSERT INTO ${q(table)} (${columns.map((c) => q(c.name)).join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
    );
    for (const r of rows) stmt.run(...(r as SQLInputValue[]));
  }
  async finish() {
    // AUTOINCREMENT: sqlite_sequence follows the largest rowid inserted, copied ones included.
  }
  async commit() {
    this.db.exec("COMMIT");
  }
  async rollback() {
    if (this.db.isTransaction) this.db.exec("ROLLBACK");
  }
  async close() {
    this.db.close();
  }
}

class PostgresRaw implements Raw {
  readonly kind = "postgres";
  private readonly client: pg.Client;
  constructor(url: string) {
    this.client = new pg.Client({ connectionString: url });
  }
  async connect() {
    await this.client.connect();
  }
  async tables() {
    const r = await this.client.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name",
    );
    return r.rows.map((x) => String(x.table_name)).filter((n) => !SKIP.has(n));
  }
  async columns(table: string) {
    const r = await this.client.query(
      "SELECT column_name, data_type, is_identity FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
      [table],
    );
    return r.rows.map((x) => ({
      name: String(x.column_name),
      type: String(x.data_type),
      identity: x.is_identity === "YES",
    }));
  }
  async parents() {
    const r = await this.client.query(
      `SELECT tc.table_name AS child, ccu.table_name AS parent
         FROM information_schema.table_constraints tc
         JOIN information_schema.constraint_column_usage ccu
           ON tc.constraint_name = ccu.constraint_name AND tc.table_schema = ccu.table_schema
        WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()`,
    );
    const out = new Map<string, Set<string>>();
    for (const t of await this.tables()) out.set(t, new Set());
    for (const x of r.rows) out.get(String(x.child))?.add(String(x.parent));
    return out;
  }
  async count(table: string) {
    return Number((await this.client.query(`SELECT COUNT(*) AS n FROM ${q(table)}`)).rows[0].n);
  }
  async *read(table: string, batch: number) {
    // ctid order is the table's physical order: stable while nothing writes (the node is stopped).
    for (let offset = 0; ; offset += batch) {
      const r = await this.client.query(
        `SELECT * FROM ${q(table)} ORDER BY ctid LIMIT ${batch} OFFSET ${offset}`,
      );
      if (r.rows.length) yield r.rows as Row[];
      if (r.rows.length < batch) return;
    }
  }
  async begin() {
    await this.client.query("BEGIN");
  }
  async insert(table: string, columns: Column[], rows: unknown[][]) {
    const overriding = columns.some((c) => c.identity) ? " OVERRIDING SYSTEM VALUE" : "";
    const names = columns.map((c) => q(c.name)).join(", ");
    const params: unknown[] = [];
    const tuples = rows.map((r) => `(${r.map((v) => (params.push(v), `$${params.length}`)).join(", ")})`);
    await this.client.query(
      `INSERT INTO ${q(table)} (${names})${overriding} VALUES ${tuples.join(", ")}`,
      params,
    );
  }
  async finish(table: string, columns: Column[]) {
    for (const c of columns.filter((x) => x.identity)) {
      await this.client.query(
        `SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT MAX(${q(c.name)}) FROM ${q(table)}), 0) + 1, false)`,
        [table, c.name],
      );
    }
  }
  async commit() {
    await this.client.query("COMMIT");
  }
  async rollback() {
    await this.client.query("ROLLBACK").catch(() => undefined);
  }
  async close() {
    await this.client.end();
  }
}

async function openRaw(url: string): Promise<Raw> {
  if (url.startsWith("sqlite:")) return new SqliteRaw(url.slice("sqlite:".length));
  const raw = new PostgresRaw(url);
  await raw.connect();
  return raw;
}

/** Parents before children, so foreign keys hold at every insert. */
function dependencyOrder(tables: string[], parents: Map<string, Set<string>>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (t: string) => {
    if (seen.has(t)) return;
    seen.add(t);
    for (const p of parents.get(t) ?? []) if (p !== t && tables.includes(p)) visit(p);
    out.push(t);
  };
  for (const t of tables) visit(t);
  return out;
}

const isTime = (type: string) => type.startsWith("timestamp");
const isJson = (type: string) => type === "jsonb" || type === "json";

/**
 * One value from `from` to `to`. The PostgreSQL column type (of whichever side is PostgreSQL)
 * says what a SQLite INTEGER or TEXT column means; SQLite to SQLite copies as is.
 */
function convert(v: unknown, from: Column, to: Column, fromKind: Raw["kind"], toKind: Raw["kind"]): unknown {
  if (v === null || v === undefined) return null;
  if (fromKind === "sqlite" && toKind === "postgres") {
    if (isTime(to.type)) return new Date(Number(v));
    if (to.type === "boolean") return Boolean(v);
    if (to.type === "bytea") return Buffer.from(v as Uint8Array);
    return v; // JSON text goes into jsonb as text; numbers and strings as they are
  }
  if (fromKind === "postgres" && toKind === "sqlite") {
    if (isTime(from.type)) return (v as Date).getTime();
    if (isJson(from.type)) return JSON.stringify(v);
    if (from.type === "boolean") return v ? 1 : 0;
    if (from.type === "bigint" && typeof v === "string") return Number(v);
    return v;
  }
  if (fromKind === "postgres" && isJson(from.type)) return JSON.stringify(v);
  if (v instanceof Uint8Array && !Buffer.isBuffer(v)) return Buffer.from(v);
  return v;
}

export interface CopyReport {
  tables: { name: string; rows: number }[];
}

export async function copyStore(
  fromUrl: string,
  toUrl: string,
  opts: { batch?: number; progress?: (line: string) => void } = {},
): Promise<CopyReport> {
  for (const u of [fromUrl, toUrl]) {
    if (!u.startsWith("sqlite:") && !isPostgresUrl(u)) {
      throw new CliUsageError(`not a store URL: ${u} (expected sqlite:PATH or postgres://USER@HOST/DB)`);
    }
  }
  if (fromUrl === toUrl) throw new CliUsageError("the source and the target are the same store");
  if (fromUrl.startsWith("sqlite:") && !existsSync(fromUrl.slice("sqlite:".length))) {
    throw new CliUsageError(`no store at ${fromUrl}`);
  }
  // Both at this build's schema (a newer one is refused), with the same tables and columns.
  for (const u of [fromUrl, toUrl]) await (await openStore(u)).close();
  const from = await openRaw(fromUrl);
  const to = await openRaw(toUrl);
  const batch = opts.batch ?? 50;
  try {
    const tables = await from.tables();
    const targetTables = new Set(await to.tables());
    for (const t of await to.tables()) {
      const n = await to.count(t);
      if (n > 0)
        throw new CliUsageError(
          `${redact(toUrl)} is not empty (${t} has ${n} rows): copy into a new database`,
        );
    }
    const plan: { table: string; fromCols: Column[]; toCols: Column[] }[] = [];
    for (const t of dependencyOrder(tables, await from.parents())) {
      if (!targetTables.has(t))
        throw new CliUsageError(`${redact(toUrl)} has no table ${t}: are both at the same Sluice version?`);
      const fromCols = await from.columns(t);
      const byName = new Map((await to.columns(t)).map((c) => [c.name, c]));
      const missing = fromCols.filter((c) => !byName.has(c.name)).map((c) => c.name);
      if (missing.length) throw new CliUsageError(`${redact(toUrl)}: table ${t} lacks ${missing.join(", ")}`);
      plan.push({ table: t, fromCols, toCols: fromCols.map((c) => byName.get(c.name)!) });
    }
    const report: CopyReport = { tables: [] };
    await to.begin();
    try {
      for (const { table, fromCols, toCols } of plan) {
        let rows = 0;
        for await (const chunk of from.read(table, batch)) {
          const values = chunk.map((r) =>
            fromCols.map((c, i) => convert(r[c.name], c, toCols[i]!, from.kind, to.kind)),
          );
          await to.insert(table, toCols, values);
          rows += chunk.length;
        }
        await to.finish(table, toCols);
        report.tables.push({ name: table, rows });
        opts.progress?.(`${table}: ${rows} rows`);
      }
      await to.commit();
    } catch (err) {
      await to.rollback();
      throw err;
    }
    // What arrived is what left.
    for (const t of report.tables) {
      const n = await to.count(t.name);
      if (n !== t.rows)
        throw new Error(`copy check: ${t.name} has ${n} rows in the target, ${t.rows} were copied`);
    }
    return report;
  } finally {
    await from.close();
    await to.close();
  }
}
