// Operating the store: schema migrations run by `sluice store migrate` (a database a newer Sluice
// migrated is refused), SQLite → PostgreSQL and back with `sluice store copy`, SQLite online
// backup while writes go on, pg_dump/pg_restore, and the DKIM secret key kept apart from both.
import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyStore } from "../../src/cli/store-copy.ts";
import { backupStore, migrateStore } from "../../src/cli/store-tools.ts";
import { Runtime } from "../../src/runtime.ts";
import { openStore } from "../../src/store/open.ts";
import { schemaStatus } from "../../src/store/schema-version.ts";
import { SQLITE_MIGRATIONS } from "../../src/store/sqlite-migrations.ts";
import { run } from "../helpers/cli.ts";
import { postgresMissing, startPostgres, type Postgres } from "../helpers/postgres.ts";
import { checkStore, fillStore } from "../helpers/store-fixture.ts";

const sh = promisify(execFile);
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sluice-store-ops-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("schema migrations", () => {
  it("sluice store migrate takes an old database to this version; its rows stay readable", async () => {
    const path = join(dir, "old.db");
    // A database as version 1 left it: only the first migration, and a quarantine row of then.
    const db = new DatabaseSync(path);
    db.exec(SQLITE_MIGRATIONS[0]!);
    db.exec("CREATE TABLE schema_version (version integer NOT NULL); INSERT INTO schema_version VALUES (1)");
    db.prepare(
      "INSERT INTO quarantine (id, tenant, created_at, envelope, score, symbols, subject, size, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ).run(
      "OLD1",
      "example",
      Date.parse("2025-05-05T00:00:00Z"),
      JSON.stringify({
        ingress: "inbound",
        client: { address: "192.0.2.9" },
        helo: null,
        tls: null,
        auth: null,
        mailFrom: null,
        recipients: [],
        localName: "x",
      }),
      11,
      "[]",
      "old",
      3,
      Buffer.from("abc"),
    );
    db.close();
    const url = `sqlite:${path}`;
    expect(await migrateStore(url, { status: true })).toContain(
      `schema version 1, this Sluice knows ${SQLITE_MIGRATIONS.length}: ${SQLITE_MIGRATIONS.length - 1} migration(s) pending`,
    );
    expect(await migrateStore(url)).toBe(
      `store ${url}: migrated from schema version 1 to ${SQLITE_MIGRATIONS.length}\n`,
    );
    expect(await migrateStore(url)).toBe(
      `store ${url}: schema version ${SQLITE_MIGRATIONS.length}, up to date\n`,
    );
    const store = await openStore(url);
    try {
      expect(await store.getQuarantine("OLD1")).toMatchObject({ subject: "old", score: 11 });
      expect((await store.quarantineMessage("OLD1"))!.toString()).toBe("abc");
    } finally {
      await store.close();
    }
  });

  it("refuses a database a newer Sluice migrated: the node does not start, migrate says why", async () => {
    const path = join(dir, "newer.db");
    const url = `sqlite:${path}`;
    await (await openStore(url)).close();
    const db = new DatabaseSync(path);
    db.exec("INSERT INTO schema_version VALUES (999)");
    db.close();
    expect(await schemaStatus(url)).toEqual({ current: 999, known: SQLITE_MIGRATIONS.length });
    await expect(openStore(url)).rejects.toThrow(/schema version 999, newer than this Sluice knows/);
    await expect(Runtime.create({ configText: `store: ${url}\n` })).rejects.toThrow(/newer than this Sluice/);
    const cli = await run(["store", "migrate", "--store", url]);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(
      /^sluice: store sqlite:.*newer\.db: schema version 999, NEWER than this Sluice/,
    );
  });
});

describe("backup and restore (SQLite)", () => {
  it("an online backup taken while the node writes restores every kind of row", async () => {
    const url = `sqlite:${join(dir, "live.db")}`;
    const store = await openStore(url);
    const filled = await fillStore(store);
    // Keep writing while the backup runs: the backup is one consistent snapshot.
    let writing = true;
    let n = 0;
    const writer = (async () => {
      while (writing && n < 10_000) {
        await store.setCursor(`busy:${n++ % 5}`, new Date());
        await new Promise((r) => setImmediate(r)); // let the backup's callbacks run too
      }
    })();
    const file = join(dir, "backup.db");
    const out = await backupStore(url, file);
    writing = false;
    await writer;
    await store.close();
    expect(out).toMatch(
      /written to .*backup\.db \(\d+ pages, schema version \d+\); the DKIM secret key is not in it/,
    );
    // Restore: the file in place of the store (here: a new path), opened as usual.
    const restoredPath = join(dir, "restored.db");
    copyFileSync(file, restoredPath);
    const restored = await openStore(`sqlite:${restoredPath}`);
    try {
      await checkStore(restored, filled);
    } finally {
      await restored.close();
    }
    await expect(backupStore(url, file)).rejects.toThrow(/exists/);
  });
});

const pgAbsent = postgresMissing();
if (pgAbsent) console.warn(`skipping PostgreSQL store operations: ${pgAbsent}`);

describe.skipIf(!!pgAbsent)("SQLite ↔ PostgreSQL and pg_dump", () => {
  let pg: Postgres;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 120_000);
  afterAll(async () => pg?.destroy());

  it("sluice store copy moves every row from SQLite to PostgreSQL and back", async () => {
    const sqlite = `sqlite:${join(dir, "single.db")}`;
    const source = await openStore(sqlite);
    const filled = await fillStore(source);
    await source.close();
    const postgres = await pg.database();
    const cli = await run(["store", "copy", sqlite, postgres]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/^copied \d+ rows in \d+ tables from sqlite:.* to postgres:/);
    expect(cli.stderr).toContain("quarantine: 1 rows");
    const clustered = await openStore(postgres);
    try {
      await checkStore(clustered, filled);
    } finally {
      await clustered.close();
    }
    // A second copy into the same (now filled) database is refused; it stays as it was.
    await expect(copyStore(sqlite, postgres)).rejects.toThrow(/is not empty/);
    // And back again, into a new SQLite file (checkStore added a revision and an audit entry).
    const back = `sqlite:${join(dir, "back.db")}`;
    const r = await copyStore(postgres, back);
    expect(r.tables.find((t) => t.name === "config_revision")?.rows).toBe(3);
    const single = await openStore(back);
    try {
      expect(Buffer.compare((await single.quarantineMessage("Q1"))!, (await openAndRead(postgres))!)).toBe(0);
      expect((await single.getUser("alice@example.com"))?.whitelist).toEqual(["partner.example"]);
      expect(
        (
          await single.publishConfig({
            role: "mx",
            text: "y: 1\n",
            author: "a",
            note: null,
            rollbackOf: null,
          })
        ).rev,
      ).toBe(filled.rev + 2);
    } finally {
      await single.close();
    }
  });

  it("pg_dump of a store restores with pg_restore into a new database", async () => {
    const url = await pg.database();
    const store = await openStore(url);
    const filled = await fillStore(store);
    await store.close();
    const file = join(dir, "sluice.dump");
    expect(await backupStore(url, file)).toContain("pg_dump of postgres://");
    const target = await pg.database();
    await sh("pg_restore", ["--no-owner", "--exit-on-error", "-d", target, file]);
    const restored = await openStore(target);
    try {
      await checkStore(restored, filled);
    } finally {
      await restored.close();
    }
  });
});

async function openAndRead(url: string): Promise<Buffer | null> {
  const s = await openStore(url);
  try {
    return await s.quarantineMessage("Q1");
  } finally {
    await s.close();
  }
}
