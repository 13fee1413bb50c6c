// Test helper: a throwaway PostgreSQL cluster (Debian `postgresql`, any installed major version,
// the newest wins; SLUICE_PG_BIN names another bin directory) in a temp dir on a free loopback port, run as the `postgres` user (fsync off, except for the benchmark). Tests and
// benchmarks only: trust authentication, no TLS. `database()` gives a fresh empty database.
import { execFile } from "node:child_process";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { chownTo, freePort, missingPackage, serviceDir } from "./spam-services.ts";

const run = promisify(execFile);

/**
 * The bin directory of the newest PostgreSQL under `root` (Debian installs each major version as
 * /usr/lib/postgresql/MAJOR/bin, and several can sit side by side), or null when there is none.
 */
export function findPostgresBin(root = "/usr/lib/postgresql"): string | null {
  let versions: string[];
  try {
    versions = readdirSync(root);
  } catch {
    return null;
  }
  const usable = versions
    .filter((v) => /^\d+(\.\d+)?$/.test(v) && existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return usable.length ? join(root, usable[0]!, "bin") : null;
}

// Where no PostgreSQL is installed, point at the usual path so the "missing" message names it.
const BIN = process.env.SLUICE_PG_BIN ?? findPostgresBin() ?? "/usr/lib/postgresql/MAJOR/bin";

export interface Postgres {
  port: number;
  dir: string;
  /** postgres://… URL of a new, empty database. */
  database(): Promise<string>;
  /** Stop the server (fast shutdown: open connections are cut). */
  stop(): Promise<void>;
  /** Start it again on the same port with the same data. */
  start(): Promise<void>;
  /** Stop and remove everything. */
  destroy(): Promise<void>;
}

/** Why PostgreSQL tests cannot run here (null: they can); under CI=true a missing package throws. */
export function postgresMissing(): string | null {
  return missingPackage("postgresql", [`${BIN}/initdb`, `${BIN}/pg_ctl`, `${BIN}/postgres`]);
}

const asPostgres = (cmd: string, args: string[]) =>
  run("runuser", ["-u", "postgres", "--", join(BIN, cmd), ...args], { timeout: 60_000 });

/** fsync: keep it on (the benchmark, to compare with SQLite's synchronous=FULL); tests turn it off. */
export async function startPostgres(opts: { fsync?: boolean } = {}): Promise<Postgres> {
  const dir = serviceDir("pg");
  chownTo("postgres", dir);
  const data = join(dir, "data");
  await asPostgres("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
  const port = await freePort();
  let n = 0;
  const ctl = (action: "start" | "stop") =>
    action === "start"
      ? asPostgres("pg_ctl", [
          "-D",
          data,
          "-w",
          "-o",
          `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=${opts.fsync ? "on" : "off"} -c max_connections=200`,
          "-l",
          join(dir, "pg.log"),
          "start",
        ])
      : asPostgres("pg_ctl", ["-D", data, "-w", "stop", "-m", "fast"]);
  await ctl("start");
  let running = true;
  return {
    port,
    dir,
    async database() {
      const name = `sluice_${process.pid}_${++n}`;
      await asPostgres("createdb", ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", name]);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      if (!running) return;
      await ctl("stop");
      running = false;
    },
    async start() {
      if (running) return;
      await ctl("start");
      running = true;
    },
    async destroy() {
      if (running) await ctl("stop").catch(() => undefined);
      running = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
