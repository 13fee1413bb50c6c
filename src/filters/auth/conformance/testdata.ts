// Where the shared conformance data lives (../shared/testdata beside the repository, as CI
// clones it) and a loud failure when it is missing. For tests only.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

export function testdataDir(suite: string): string {
  const dir = join(REPO_ROOT, "..", "shared", "testdata", suite);
  if (!existsSync(dir)) {
    throw new Error(
      `conformance data missing: ${dir} (expected ../shared/testdata/${suite} beside the repository)`,
    );
  }
  return dir;
}
