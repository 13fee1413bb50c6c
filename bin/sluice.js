#!/usr/bin/env node
// The `sluice` command. Sluice runs its TypeScript sources directly on Node 24 (type stripping).
// On an older Node (a system Node 20, a global install), this shim runs itself again with the
// Node 24 of the `node` package Sluice depends on, passing signals on; without it, it says so.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const major = Number(process.versions.node.split(".")[0]);
if (
  fileURLToPath(import.meta.url)
    .split(/[\\/]/)
    .includes("node_modules")
) {
  // Node strips types from our own files only: never under node_modules (npm install -g puts it there).
  console.error(
    "sluice: cannot run from inside node_modules (Node does not run TypeScript there); install the package by unpacking it, see docs/install.md",
  );
  process.exit(2);
} else if (major < 24) {
  const node = bundledNode();
  if (!node) {
    console.error(
      `sluice: needs Node.js 24 or newer (this is ${process.version}); run npm ci first (it installs Node 24 as the node package), then npm start or npx sluice`,
    );
    process.exit(2);
  }
  const child = spawn(node, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: "inherit" });
  for (const sig of ["SIGHUP", "SIGINT", "SIGTERM", "SIGUSR1", "SIGUSR2"]) {
    process.on(sig, () => child.kill(sig));
  }
  child.on("exit", (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
} else if (process.argv.length === 3 && ["--version", "-V"].includes(process.argv[2])) {
  // Without loading every part of Sluice: packaging checks and scripts call this often.
  const { versionLine } = await import("../src/cli/version.ts");
  console.log(versionLine());
} else {
  await import("../src/cli/main.ts");
}

/** node_modules/node/bin/node of this package (or of the folder it is installed in), if there. */
function bundledNode() {
  try {
    const require = createRequire(import.meta.url);
    const bin = join(dirname(require.resolve("node/package.json")), "bin", "node");
    return existsSync(bin) ? bin : null;
  } catch {
    return null;
  }
}
