// The configuration a cluster node last applied, kept in its state directory, so the node can
// start on it while PostgreSQL is away. Not a second source of truth: whenever the store
// answers, its newest revision wins and this file is rewritten. Node-local, mode 0600 (the
// published text may hold directory credentials).
import { mkdir, open, readFile, rename } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Config } from "../config/schema.ts";

export interface CachedRevision {
  role: string;
  /** The revision applied, or null: the store answered and the role had none (local file only). */
  rev: number | null;
  text: string | null;
  author: string | null;
  appliedAt: string;
}

/** The node's state directory: node.state_dir, else the folder that holds the spool. */
export function stateDir(config: Config): string {
  return config.node.state_dir ?? dirname(config.spool.dir);
}

export function revisionCachePath(config: Config, role: string): string {
  return join(stateDir(config), `cluster-revision.${role}.json`);
}

/** The cached revision of `role`, or null if there is none (or it is unreadable). */
export async function readCachedRevision(path: string, role: string): Promise<CachedRevision | null> {
  let raw: string;
  try {
    raw = await readFile(path, "utf8");
  } catch {
    return null;
  }
  try {
    const c = JSON.parse(raw) as CachedRevision;
    if (c.role !== role || (c.rev !== null && typeof c.text !== "string")) return null;
    return c;
  } catch {
    return null;
  }
}

/** Write atomically: a crash leaves the old file or the new one, never half of either. */
export async function writeCachedRevision(path: string, c: CachedRevision): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const fh = await open(tmp, "w", 0o600);
  try {
    await fh.writeFile(JSON.stringify(c));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}
