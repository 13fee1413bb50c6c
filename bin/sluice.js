#!/usr/bin/env node
// The `sluice` command. Sluice runs its TypeScript sources directly on Node 24
// (type stripping); this shim only refuses older runtimes with a clear message.
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  console.error(`sluice: needs Node.js 24 or newer (this is ${process.version}); run it through npm (npm start) or node_modules/.bin/node`);
  process.exit(2);
}
await import("../src/cli/main.ts");
