// Starts a throwaway Rspamd (normal worker + controller, offline config, Bayes in a Redis this
// helper also starts) on free loopback ports for integration tests and the benchmark. Not for production.
import { mkdirSync, writeFileSync } from "node:fs";
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { chownTo, freePort, missingPackage, serviceDir, start, stop, waitFor } from "./spam-services.ts";
import { rspamdLearn } from "../../src/filters/spam/rspamd-client.ts";
import { connect } from "node:net";

export const RSPAMD_BIN = "/usr/bin/rspamd";
export const REDIS_BIN = "/usr/bin/redis-server";

export interface Rspamd {
  /** Normal worker, for /checkv2. */
  url: string;
  controllerUrl: string;
  dir: string;
  /** Rspamd main process (workers are its children). */
  pid: number;
  learn(spam: Buffer[], ham: Buffer[], concurrency?: number): Promise<void>;
  close(): Promise<void>;
}

export function rspamdMissing(): string | null {
  return missingPackage("rspamd and redis-server", [RSPAMD_BIN, REDIS_BIN]);
}

const DISABLED = [
  "greylist",
  "replies",
  "rbl",
  "spf",
  "dkim",
  "dmarc",
  "arc",
  "asn",
  "fuzzy_check",
  "reputation",
  "url_redirector",
  "neural",
  "emails",
  "dkim_signing",
  "ratelimit",
  "history_redis",
  "clickhouse",
];

/**
 * The offline setup both starters share: directories, Redis-backed Bayes, the DNS-dependent
 * modules off. `workers` writes the caller's worker sockets into local.d.
 */
export function writeOfflineConfig(
  dir: string,
  redisPort: number,
  bayes: string,
  workers: Record<string, string>,
): void {
  for (const d of ["conf/local.d", "conf/override.d", "db", "run", "log", "redis"])
    mkdirSync(join(dir, d), { recursive: true });
  const local = (name: string, text: string) => writeFileSync(join(dir, "conf/local.d", name), text);
  for (const [name, text] of Object.entries(workers)) local(name, text);
  local("worker-fuzzy.inc", "count = 0;\n");
  local("redis.conf", `servers = "127.0.0.1:${redisPort}";\n`);
  local(
    "classifier-bayes.conf",
    `backend = "redis";\nservers = "127.0.0.1:${redisPort}";\nautolearn = false;\n${bayes}`,
  );
  local("options.inc", `dns { nameserver = ["127.0.0.1:53"]; timeout = 0.1s; retransmits = 0; }\n`);
  local("hfilter.conf", "helo_enabled = false;\nhostname_enabled = false;\nfrom_enabled = false;\n");
  local("phishing.conf", "phishtank_enabled = false;\nopenphish_enabled = false;\n");
  for (const m of DISABLED) local(`${m}.conf`, "enabled = false;\n");
  chownTo("_rspamd", join(dir, "db"), join(dir, "run"), join(dir, "log"));
}

/** Starts Redis (waits for it) and Rspamd on a directory prepared by writeOfflineConfig. */
export async function startRedisAndRspamd(
  dir: string,
  redisPort: number,
): Promise<{ redis: ChildProcess; child: ChildProcess }> {
  const redis = start(
    REDIS_BIN,
    [
      "--port",
      String(redisPort),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      join(dir, "redis"),
    ],
    join(dir, "redis.log"),
  );
  await waitFor("redis", 10_000, () => tcpOpen(redisPort), redis);
  const child = start(
    RSPAMD_BIN,
    [
      "-f",
      "-u",
      "_rspamd",
      "-g",
      "_rspamd",
      "-c",
      "/etc/rspamd/rspamd.conf",
      `--var=LOCAL_CONFDIR=${join(dir, "conf")}`,
      `--var=DBDIR=${join(dir, "db")}`,
      `--var=RUNDIR=${join(dir, "run")}`,
      `--var=LOGDIR=${join(dir, "log")}`,
    ],
    join(dir, "rspamd.out"),
  );
  return { redis, child };
}

export async function startRspamd(opts: { minLearns?: number; dir?: string } = {}): Promise<Rspamd> {
  const dir = opts.dir ?? serviceDir("rspamd");
  const [port, controller, redisPort] = [await freePort(), await freePort(), await freePort()];
  writeOfflineConfig(dir, redisPort, `min_learns = ${opts.minLearns ?? 200};\n`, {
    "worker-normal.inc": `bind_socket = "127.0.0.1:${port}";\ncount = 2;\n`,
    "worker-controller.inc": `bind_socket = "127.0.0.1:${controller}";\n`,
    "worker-proxy.inc": `bind_socket = "127.0.0.1:${await freePort()}";\n`,
  });
  const { redis, child } = await startRedisAndRspamd(dir, redisPort);
  const url = `http://127.0.0.1:${port}`;
  const controllerUrl = `http://127.0.0.1:${controller}`;
  try {
    await waitFor(
      "rspamd",
      90_000,
      async () => (await fetch(`${url}/ping`)).ok && (await fetch(`${controllerUrl}/ping`)).ok,
      child,
    );
  } catch (err) {
    await stop(child);
    await stop(redis);
    throw err;
  }
  return {
    url,
    controllerUrl,
    dir,
    pid: child.pid!,
    async learn(spam, ham, concurrency = 4) {
      const jobs = [...spam.map((m) => [m, "spam"] as const), ...ham.map((m) => [m, "ham"] as const)];
      let next = 0;
      const worker = async () => {
        while (next < jobs.length) {
          const [m, cls] = jobs[next++]!;
          await rspamdLearn(controllerUrl, m, cls, { timeoutMs: 30_000, bulk: true });
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
    },
    async close() {
      await stop(child);
      await stop(redis);
    },
  };
}

export function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });
}
