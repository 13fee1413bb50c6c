// Starts a throwaway Rspamd whose proxy worker speaks the milter protocol and scans itself
// (self_scan: no separate normal worker in the path), offline (network checks off), with Bayes
// in a Redis this helper also starts — the peer the milter benchmark compares with. Same
// offline configuration as ./rspamd.ts; ports are free loopback ports. Not for production.
import { readdirSync, readFileSync } from "node:fs";
import { freePort, missingPackage, serviceDir, stop, waitFor } from "./spam-services.ts";
import { RSPAMD_BIN, REDIS_BIN, startRedisAndRspamd, tcpOpen, writeOfflineConfig } from "./rspamd.ts";

export interface RspamdMilter {
  /** For Postfix: smtpd_milters = this. */
  milter: string;
  milterPort: number;
  controllerUrl: string;
  dir: string;
  /** Rspamd main process (workers are its children). */
  pid: number;
  /** Messages scanned so far (controller /stat). */
  scanned(): Promise<number>;
  /**
   * Peak RSS (VmHWM) of the Rspamd main process and its workers in KiB: summed (pages shared
   * between them counted in each) and the largest single process; Redis apart.
   */
  peakRssKiB(): { rspamd: number; maxSingle: number; processes: number; redis: number };
  /** Proportional set size of the Rspamd processes now (shared pages split), in KiB. */
  pssKiB(): number;
  close(): Promise<void>;
}

export function rspamdMilterMissing(): string | null {
  return missingPackage("rspamd and redis-server", [RSPAMD_BIN, REDIS_BIN]);
}

/** Modules that would go to the network (or need state we do not set up): off. */

export async function startRspamdMilter(
  opts: { workers?: number; dir?: string } = {},
): Promise<RspamdMilter> {
  const dir = opts.dir ?? serviceDir("rspamd-milter");
  const [milterPort, normal, controller, redisPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  writeOfflineConfig(dir, redisPort, "", {
    "worker-proxy.inc":
      `bind_socket = "127.0.0.1:${milterPort}";\nmilter = yes;\ntimeout = 120s;\n` +
      `upstream "local" { default = yes; self_scan = yes; }\ncount = ${opts.workers ?? 2};\n`,
    // The normal worker is not in the milter path (self_scan); one, on a private port.
    "worker-normal.inc": `bind_socket = "127.0.0.1:${normal}";\ncount = 1;\n`,
    "worker-controller.inc": `bind_socket = "127.0.0.1:${controller}";\n`,
    // Add X-Spamd-Result to scanned mail, also for mail from loopback clients.
    "milter_headers.conf": 'use = ["x-spamd-result"];\nskip_local = false;\n',
  });
  const { redis, child } = await startRedisAndRspamd(dir, redisPort);
  const controllerUrl = `http://127.0.0.1:${controller}`;
  try {
    // The first start compiles the regex cache (up to ~20 s on 2 cores).
    await waitFor(
      "rspamd",
      90_000,
      async () => (await fetch(`${controllerUrl}/ping`)).ok && (await tcpOpen(milterPort)),
      child,
    );
  } catch (err) {
    await stop(child);
    await stop(redis);
    throw err;
  }
  return {
    milter: `inet:127.0.0.1:${milterPort}`,
    milterPort,
    controllerUrl,
    dir,
    pid: child.pid!,
    async scanned() {
      const r = await fetch(`${controllerUrl}/stat`);
      return ((await r.json()) as { scanned: number }).scanned;
    },
    peakRssKiB() {
      const hwm = [child.pid!, ...descendants(child.pid!)].map(vmHwm);
      return {
        rspamd: hwm.reduce((s, x) => s + x, 0),
        maxSingle: Math.max(...hwm),
        processes: hwm.length,
        redis: vmHwm(redis.pid!),
      };
    },
    pssKiB() {
      return [child.pid!, ...descendants(child.pid!)].reduce((s, p) => s + pss(p), 0);
    },
    async close() {
      await stop(child);
      await stop(redis);
    },
  };
}

function vmHwm(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function pss(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      // Field 4 of /proc/PID/stat, after the parenthesised command name.
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      parent.set(Number(e), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [c, pp] of parent) {
      if (pp !== p) continue;
      out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}
