// `npm start` (prestart) and the browser tests call this: build the console into web-dist/
// only when it is missing or older than a source under web/. Not the build itself (vite).
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const WEB = fileURLToPath(new URL(".", import.meta.url));
const ROOT = join(WEB, "..");
const OUT = join(ROOT, "web-dist", "index.html");

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

export function consoleIsStale(): boolean {
  return !existsSync(OUT) || statSync(OUT).mtimeMs < newest(WEB);
}

export function buildConsoleIfStale(): void {
  if (!consoleIsStale()) return;
  const vite = join(ROOT, "node_modules", "vite", "bin", "vite.js");
  const r = spawnSync(
    process.execPath,
    [vite, "build", "--config", join(WEB, "vite.config.ts"), "--logLevel", "warn"],
    {
      cwd: ROOT,
      stdio: "inherit",
    },
  );
  if (r.status !== 0) throw new Error(`console build failed (exit ${r.status})`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) buildConsoleIfStale();
