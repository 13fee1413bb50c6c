// Test helper: a throwaway dnsmasq serving a declared zone (TXT and A records) on loopback,
// and a way to run a program whose libc resolver uses it (OpenDKIM cannot be given a server).
// For integration tests and the benchmark only; dnsmasq comes from Debian's dnsmasq-base.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSocket } from "node:dgram";

export const DNSMASQ_BIN = "/usr/sbin/dnsmasq";

export interface ZoneRecords {
  /** Domains answered authoritatively: unknown names in them are NXDOMAIN, not REFUSED. */
  domains?: string[];
  txt?: Record<string, string>;
  a?: Record<string, string>;
  /** Names answered with an address whatever the type asked (--address=/NAME/IP), several per name. */
  address?: [string, string][];
  /** Domains whose queries go to another server ("127.0.0.1#PORT"): a slow zone is one that is stopped. */
  forward?: Record<string, string>;
  /** TTL of the answers dnsmasq makes up (--local-ttl; dnsmasq's default 0 means "do not cache"). */
  ttl?: number;
}

export interface Dnsmasq {
  address: string;
  port: number;
  /** "address:port" for DnsResolver servers. */
  server: string;
  dir: string;
  /** Stop answering (SIGSTOP) and start again (SIGCONT): a slow or dead server. */
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

/** The package to install when a binary is missing; under CI=true a missing one is an error. */
export function missing(pkg: string, bins: string[]): string | null {
  const absent = bins.filter((b) => !existsSync(b));
  if (!absent.length) return null;
  const msg = `${pkg} is not installed (missing ${absent.join(", ")}); apt-get install ${pkg}`;
  if (process.env.CI === "true") throw new Error(msg);
  return msg;
}

/**
 * dnsmasq splits a --txt-record value into character-strings at commas (quotes are for a
 * shell, which spawn does not use): 255-byte pieces joined by ",". Values with commas cannot
 * be served this way.
 */
function txtArg(value: string): string {
  if (value.includes(",")) throw new Error(`TXT value with a comma is not supported: ${value}`);
  const parts: string[] = [];
  for (let i = 0; i < value.length; i += 255) parts.push(value.slice(i, i + 255));
  return parts.join(",");
}

async function freeUdpPort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket("udp4");
    s.once("error", reject);
    s.bind(0, address, () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Start dnsmasq. `port53`: listen on port 53 of a random 127.53.x.y address (root only), for
 * programs that read /etc/resolv.conf (see runWithResolver); otherwise a free high port.
 */
export async function startDnsmasq(zone: ZoneRecords, opts: { port53?: boolean } = {}): Promise<Dnsmasq> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-dnsmasq-"));
  const address = opts.port53
    ? `127.53.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`
    : "127.0.0.1";
  const launch = async (port: number): Promise<ChildProcess> => {
    const args = [
      "-k",
      `--port=${port}`,
      `--listen-address=${address}`,
      "--bind-interfaces",
      "--no-resolv",
      "--no-hosts",
      "--log-facility=-",
      `--pid-file=${join(dir, "pid")}`,
      ...(zone.domains ?? []).map((d) => `--local=/${d}/`),
      ...Object.entries(zone.txt ?? {}).map(([n, v]) => `--txt-record=${n},${txtArg(v)}`),
      ...Object.entries(zone.a ?? {}).map(([n, v]) => `--host-record=${n},${v}`),
      ...(zone.address ?? []).map(([n, v]) => `--address=/${n}/${v}`),
      ...Object.entries(zone.forward ?? {}).map(([d, server]) => `--server=/${d}/${server}`),
      ...(zone.ttl !== undefined ? [`--local-ttl=${zone.ttl}`] : []),
    ];
    const child: ChildProcess = spawn(DNSMASQ_BIN, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += String(d)));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, 300);
      child.once("exit", (code) => {
        clearTimeout(t);
        reject(new Error(`dnsmasq exited (${code}): ${stderr}`));
      });
    });
    return child;
  };
  // A free UDP port may have its TCP twin taken (dnsmasq binds both): try another.
  let port = opts.port53 ? 53 : await freeUdpPort(address);
  let child: ChildProcess;
  for (let attempt = 1; ; attempt++) {
    try {
      child = await launch(port);
      break;
    } catch (err) {
      if (opts.port53 || attempt >= 5 || !/Address already in use/.test((err as Error).message)) throw err;
      port = await freeUdpPort(address);
    }
  }
  return {
    address,
    port,
    server: `${address}:${port}`,
    dir,
    pause: () => void child.kill("SIGSTOP"),
    resume: () => void child.kill("SIGCONT"),
    async close() {
      if (child.exitCode === null) {
        child.kill("SIGCONT");
        const done = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await done;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Run a program with /etc/resolv.conf pointing at our dnsmasq, inside a private mount
 * namespace (unshare -m, root only) so the machine's resolver is untouched.
 */
export function runWithResolver(
  dns: Dnsmasq,
  argv: string[],
  input: Buffer,
): { status: number | null; stdout: Buffer; stderr: string } {
  if (dns.port !== 53) throw new Error("runWithResolver needs a dnsmasq started with port53");
  const conf = join(dns.dir, "resolv.conf");
  writeFileSync(conf, `nameserver ${dns.address}\noptions timeout:2 attempts:1\n`);
  const script = `mount --bind "$1" /etc/resolv.conf && shift && exec "$@"`;
  const r = spawnSync("unshare", ["--mount", "sh", "-c", script, "sh", conf, ...argv], {
    input,
    timeout: 20_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: String(r.stderr) };
}
