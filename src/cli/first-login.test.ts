// First login: the quick start creates one operator with a random password, logged once and
// stored hashed; a configured node without an operator logs the command that creates one.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../config/load.ts";
import { QUICKSTART_YAML } from "../config/quickstart.ts";
import { builtinFilters } from "../filters/index.ts";
import { FilterRegistry } from "../pipeline/registry.ts";
import { verifyPassword } from "../policy/password.ts";
import { openStore } from "../store/open.ts";
import type { Store } from "../store/types.ts";
import { ensureOperator } from "./first-login.ts";

const config = parseConfig(QUICKSTART_YAML, "(quick start)", new FilterRegistry(builtinFilters()));

function capture() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  return { log: pino({ level: "info" }, sink), lines };
}

describe("first login", () => {
  let dir: string;
  let store: Store;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "sluice-first-login-"));
    store = await openStore(`sqlite:${join(dir, "s.db")}`);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("quick start: creates admin once, password in the log, only its hash in the store", async () => {
    const { log, lines } = capture();
    expect(await ensureOperator(store, config, log, {})).toEqual({ created: "admin", command: null });
    const line = lines.find((l) => l.login === "admin")!;
    expect(line).toMatchObject({ level: 40, url: "http://127.0.0.1:8080/" });
    const password = String(line.password);
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const account = (await store.getAccount("admin"))!;
    expect(account.role).toBe("operator");
    expect(account.passwordHash).not.toContain(password);
    expect(await verifyPassword(password, account.passwordHash)).toBe(true);
    expect((await store.listAudit({}))[0]).toMatchObject({ action: "account.create", target: "admin" });
    // Second start: nothing created, nothing printed.
    const again = capture();
    expect(await ensureOperator(store, config, again.log, {})).toEqual({ created: null, command: null });
    expect(again.lines).toEqual([]);
  });

  it("with a configuration file: prints the command instead of creating an account", async () => {
    const { log, lines } = capture();
    const r = await ensureOperator(store, config, log, { configPath: "/etc/sluice/sluice.yaml" });
    expect(r.command).toBe("sluice web adduser admin --role operator --config /etc/sluice/sluice.yaml");
    expect(lines[0]).toMatchObject({ level: 40, command: r.command });
    expect(await store.listAccounts()).toEqual([]);
  });
});
