// The SQLite store's files are private: directory 0700, database, WAL and shared memory 0600
// (before: created with the umask's 0644/0755, readable by every local user).
import { chmodSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SqliteStore } from "./sqlite.ts";

const mode = (p: string) => statSync(p).mode & 0o777;

describe("SQLite store files", () => {
  it("creates the directory 0700 and the database, -wal and -shm 0600", async () => {
    const old = process.umask(0o022);
    try {
      const dir = join(mkdtempSync(join(tmpdir(), "sluice-perm-")), "var", "db");
      const file = join(dir, "sluice.db");
      const store = new SqliteStore(file);
      await store.migrate();
      await store.appendAudit({
        at: new Date(),
        actor: "t",
        action: "a",
        target: "x",
        tenant: null,
        before: null,
        after: null,
      });
      expect(mode(dir)).toBe(0o700);
      expect(mode(file)).toBe(0o600);
      expect(mode(`${file}-wal`)).toBe(0o600);
      expect(mode(`${file}-shm`)).toBe(0o600);
      await store.close();
    } finally {
      process.umask(old);
    }
  });

  it("tightens an existing world-readable database to 0600", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "sluice-perm-")), "old.db");
    writeFileSync(file, "");
    chmodSync(file, 0o644);
    const store = new SqliteStore(file);
    await store.migrate();
    expect(mode(file)).toBe(0o600);
    await store.close();
  });
});
