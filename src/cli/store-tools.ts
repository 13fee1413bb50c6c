// `sluice store migrate | copy | backup`: the store's schema version and its migrations, moving
// a store from SQLite to PostgreSQL (or back), and an online backup (SQLite's backup API while the
// node runs; pg_dump for PostgreSQL). The configured store comes from --config (or the quick start).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { backup, DatabaseSync } from "node:sqlite";
import type { Command } from "commander";
import { parseDocument } from "yaml";
import { QUICKSTART_YAML } from "../config/quickstart.ts";
import { openStore } from "../store/open.ts";
import { isPostgresUrl, redact, schemaStatus } from "../store/schema-version.ts";
import { CliUsageError } from "./quarantine.ts";
import { copyStore } from "./store-copy.ts";

/** The store URL of a configuration file (only that key is read: the file may be from a newer Sluice). */
export async function configuredStore(configPath: string | undefined): Promise<string> {
  const text = configPath ? await readFile(configPath, "utf8") : QUICKSTART_YAML;
  const store = parseDocument(text).get("store");
  return typeof store === "string" ? store : "sqlite:./var/sluice.db";
}

export async function migrateStore(url: string, opts: { status?: boolean } = {}): Promise<string> {
  const before = await schemaStatus(url);
  const name = redact(url);
  if (opts.status || before.current > before.known) {
    const state =
      before.current === before.known
        ? "up to date"
        : before.current > before.known
          ? "NEWER than this Sluice: run the newer version or restore a backup"
          : `${before.known - before.current} migration(s) pending (sluice store migrate)`;
    if (before.current > before.known && !opts.status)
      throw new CliUsageError(`store ${name}: schema version ${before.current}, ${state}`);
    return `store ${name}: schema version ${before.current}, this Sluice knows ${before.known}: ${state}\n`;
  }
  await (await openStore(url)).close();
  const after = await schemaStatus(url);
  return before.current === after.current
    ? `store ${name}: schema version ${after.current}, up to date\n`
    : `store ${name}: migrated from schema version ${before.current} to ${after.current}\n`;
}

/** A consistent copy of a running node's store: SQLite's online backup, or pg_dump -Fc. */
export async function backupStore(url: string, dest: string): Promise<string> {
  if (existsSync(dest)) throw new CliUsageError(`${dest} exists: give a new file name`);
  if (url.startsWith("sqlite:")) {
    const path = url.slice("sqlite:".length);
    if (!existsSync(path)) throw new CliUsageError(`no store at ${path}`);
    const db = new DatabaseSync(path, { readOnly: true });
    let pages: number;
    try {
      // All pages in one step: one read transaction, so writers (WAL) go on and the copy is one
      // consistent snapshot. (Small steps would restart whenever the node writes in between.)
      pages = await backup(db, dest, { rate: 2 ** 30 });
    } finally {
      db.close();
    }
    const check = new DatabaseSync(dest, { readOnly: true });
    try {
      const r = check.prepare("PRAGMA integrity_check").get() as { integrity_check: string };
      if (r.integrity_check !== "ok")
        throw new Error(`backup ${dest} fails its integrity check: ${r.integrity_check}`);
    } finally {
      check.close();
    }
    const s = await schemaStatus(`sqlite:${dest}`);
    return `backup of ${path} written to ${dest} (${pages} pages, schema version ${s.current}); the DKIM secret key is not in it (docs/backup.md)\n`;
  }
  if (isPostgresUrl(url)) {
    await new Promise<void>((resolve, reject) => {
      const p = spawn("pg_dump", ["--format=custom", "--no-owner", "--file", dest, url], {
        stdio: ["ignore", "inherit", "inherit"],
      });
      p.on("error", (err) =>
        reject(new CliUsageError(`pg_dump: ${err.message} (install the PostgreSQL client)`)),
      );
      p.on("exit", (code) =>
        code === 0 ? resolve() : reject(new CliUsageError(`pg_dump exited with ${code}`)),
      );
    });
    return `pg_dump of ${redact(url)} written to ${dest} (restore: pg_restore --no-owner -d NEWDB ${dest}); the DKIM secret key is not in it (docs/backup.md)\n`;
  }
  throw new CliUsageError(`not a store URL: ${url}`);
}

export function registerStoreCommands(program: Command): void {
  const store = program.command("store").description("the store: schema migrations, copying, backups");
  const storeOption = ["--store <url>", "the store URL (default: the configuration's store:)"] as const;
  store
    .command("migrate")
    .description(
      "apply the store's pending schema migrations (a node also does at start); --status only reports",
    )
    .option("-c, --config <file>", "configuration file (default: embedded quick-start)")
    .option(...storeOption)
    .option("--status", "report the schema version, change nothing")
    .action(async (o: { config?: string; store?: string; status?: boolean }) => {
      const url = o.store ?? (await configuredStore(o.config));
      process.stdout.write(await migrateStore(url, o));
    });
  store
    .command("copy")
    .description(
      "copy every row of one store into a new, empty one (e.g. SQLite to PostgreSQL); stop the node first",
    )
    .argument("<from>", "source store, e.g. sqlite:/var/lib/sluice/sluice.db")
    .argument("<to>", "target store, e.g. postgres://sluice@db.example.net/sluice")
    .action(async (from: string, to: string) => {
      const r = await copyStore(from, to, { progress: (l) => process.stderr.write(`  ${l}\n`) });
      const rows = r.tables.reduce((n, t) => n + t.rows, 0);
      process.stdout.write(
        `copied ${rows} rows in ${r.tables.length} tables from ${redact(from)} to ${redact(to)}\n`,
      );
    });
  store
    .command("backup")
    .description(
      "write a consistent backup of the store while the node runs (SQLite online backup, or pg_dump)",
    )
    .argument("<file>", "the backup file to create")
    .option("-c, --config <file>", "configuration file (default: embedded quick-start)")
    .option(...storeOption)
    .action(async (file: string, o: { config?: string; store?: string }) => {
      const url = o.store ?? (await configuredStore(o.config));
      process.stdout.write(await backupStore(url, file));
    });
}
