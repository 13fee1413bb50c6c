// Test helper: real-service tests need a Debian package. Without it they skip with a
// message naming the package — except under CI=true, where a missing package fails.
import { existsSync } from "node:fs";

export function haveTool(path: string, pkg: string): boolean {
  if (existsSync(path)) return true;
  if (process.env.CI === "true") throw new Error(`${path} is missing: install the Debian package "${pkg}"`);
  console.warn(`skipping: ${path} not found (Debian package "${pkg}")`);
  return false;
}
