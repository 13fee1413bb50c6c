// Test helper: run the real `sluice` command (bin/sluice.js on Node 24) and collect its output.
import { spawn } from "node:child_process";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "..", "..");
export const NODE = process.execPath;
export const SLUICE = join(ROOT, "bin", "sluice.js");

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(
  args: string[],
  opts: { cwd?: string; input?: string | Buffer; script?: string } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [opts.script ?? SLUICE, ...args], {
      cwd: opts.cwd ?? ROOT,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? "");
  });
}
