// Shared bits of the real-service test helpers: free loopback ports, temp dirs that service
// users can enter, waiting for readiness, and the skip-or-fail rule for missing packages.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export function serviceDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `sluice-${prefix}-`));
  chmodSync(dir, 0o755);
  return dir;
}

export function chownTo(user: string, ...paths: string[]): void {
  execFileSync("chown", ["-R", `${user}:`, ...paths]);
}

/** Why a service test cannot run here (null: it can). Under CI=true a missing package is an error. */
export function missingPackage(pkg: string, binaries: string[]): string | null {
  const missing = binaries.filter((b) => !existsSync(b));
  if (missing.length === 0) return null;
  const msg = `package ${pkg} is not installed (missing ${missing.join(", ")})`;
  if (process.env.CI === "true") throw new Error(`CI: ${msg}`);
  return msg;
}

export async function waitFor(
  what: string,
  ms: number,
  probe: () => Promise<boolean>,
  child?: ChildProcess,
): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child && child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not ready after ${ms} ms`);
}

export function start(cmd: string, args: string[], log: string): ChildProcess {
  const child = spawn("sh", ["-c", `exec "$0" "$@" >>${JSON.stringify(log)} 2>&1`, cmd, ...args], {
    stdio: "ignore",
  });
  return child;
}

export async function stop(child: ChildProcess, ms = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const t = setTimeout(() => child.kill("SIGKILL"), ms);
  await done;
  clearTimeout(t);
}
