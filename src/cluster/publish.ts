// Publishing configuration revisions: validate completely, then store (which notifies the
// nodes). Shared by `sluice config publish/history/rollback` and the /api/cluster routes.
// Nothing here applies a revision: each node's agent does that for itself.
import type { FilterCatalog } from "../config/load.ts";
import type { ConfigRevision, NodeHeartbeat, Store } from "../store/types.ts";
import { validateRevision } from "./revision.ts";

export class ClusterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ClusterError";
  }
}

const ROLE = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export async function publishRevision(
  store: Store,
  catalog: FilterCatalog,
  p: { role: string; text: string; author: string; note?: string | null; rollbackOf?: number | null },
): Promise<ConfigRevision> {
  if (!ROLE.test(p.role)) throw new ClusterError(`role "${p.role}": lower-case letters, digits, - and _`);
  // Throws ConfigError with every issue; no revision exists unless this passes.
  validateRevision(p.text, `revision for role ${p.role}`, catalog);
  return store.publishConfig({
    role: p.role,
    text: p.text,
    author: p.author,
    note: p.note ?? null,
    rollbackOf: p.rollbackOf ?? null,
  });
}

/** Publish an earlier revision's text again, as the newest revision of its role. */
export async function rollbackTo(
  store: Store,
  catalog: FilterCatalog,
  rev: number,
  author: string,
): Promise<ConfigRevision> {
  const old = await store.getConfigRevision(rev);
  if (!old) throw new ClusterError(`no revision ${rev}`);
  return publishRevision(store, catalog, {
    role: old.role,
    text: old.text,
    author,
    note: `rollback to ${rev}`,
    rollbackOf: rev,
  });
}

export function formatHistory(revs: ConfigRevision[], nodes: NodeHeartbeat[], now = new Date()): string {
  const lines = ["REV  ROLE        CREATED                   AUTHOR      NOTE"];
  for (const r of revs) {
    lines.push(
      `${String(r.rev).padEnd(4)} ${r.role.padEnd(11)} ${r.createdAt.toISOString().padEnd(25)} ${r.author.padEnd(11)} ${r.note ?? ""}`,
    );
  }
  lines.push("", "NODE             ROLE        APPLIED  HEALTH        UP(s)  SEEN(s ago)  VERSION  ERROR");
  for (const n of nodes) {
    lines.push(
      [
        n.name.padEnd(16),
        n.role.padEnd(11),
        String(n.appliedRev ?? "-").padEnd(8),
        n.health.padEnd(13),
        String(Math.round((n.seenAt.getTime() - n.startedAt.getTime()) / 1000)).padEnd(6),
        String(Math.round((now.getTime() - n.seenAt.getTime()) / 1000)).padEnd(12),
        n.version.padEnd(8),
        n.error ? `rev ${n.failedRev}: ${n.error}` : "",
      ].join(" "),
    );
  }
  return lines.join("\n") + "\n";
}
