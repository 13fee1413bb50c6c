// The version `sluice --version` prints and the log's start line carries: the package's own,
// read once from package.json beside src/ (the same file npm pack ships).
import { readFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

export const VERSION: string = pkg.version;

/** One line: Sluice's version and the runtime it runs on. */
export function versionLine(): string {
  return `sluice ${VERSION} (node ${process.version})`;
}
