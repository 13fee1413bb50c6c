// Publishing configuration revisions: validate completely, then store (which notifies the
// nodes). Shared by `sluice config publish/history/rollback/shadow` and the console API
// (/api/config/). Nothing here applies a revision: each node's agent does that for itself.
import type { FilterCatalog } from "../config/load.ts";
import { restoreRedacted } from "../config/redact.ts";
import type { ConfigRevision, NodeHeartbeat, ShadowReport, ShadowRun, Store } from "../store/types.ts";
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
  const label = `revision for role ${p.role}`;
  // Text edited from a redacted copy (the console shows no secrets) keeps the earlier secrets.
  const text = restoreRedacted(p.text, (await store.latestConfigRevision(p.role))?.text ?? null, label);
  // Throws ConfigError with every issue; no revision exists unless this passes.
  validateRevision(text, label, catalog);
  return store.publishConfig({
    role: p.role,
    text,
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

// ---- shadow rollout ----

/** Validate a candidate like a revision, then let the chosen nodes evaluate it beside the live one. */
export async function startShadowRun(
  store: Store,
  catalog: FilterCatalog,
  p: { role: string; text: string; author: string; nodes: string[]; note?: string | null },
): Promise<ShadowRun> {
  if (!ROLE.test(p.role)) throw new ClusterError(`role "${p.role}": lower-case letters, digits, - and _`);
  const label = `shadow candidate for role ${p.role}`;
  const text = restoreRedacted(p.text, (await store.latestConfigRevision(p.role))?.text ?? null, label);
  validateRevision(text, label, catalog);
  return store.startShadow({
    role: p.role,
    text,
    author: p.author,
    nodes: p.nodes,
    note: p.note ?? null,
  });
}

/** Publish a running candidate as the role's new revision and end the shadow run. */
export async function publishShadow(
  store: Store,
  catalog: FilterCatalog,
  id: number,
  author: string,
): Promise<ConfigRevision> {
  const run = await store.getShadow(id);
  if (!run) throw new ClusterError(`no shadow run ${id}`);
  if (run.state !== "running") throw new ClusterError(`shadow run ${id} is ${run.state}`);
  if (!(await store.endShadow(id, "published"))) throw new ClusterError(`shadow run ${id} ended meanwhile`);
  return publishRevision(store, catalog, {
    role: run.role,
    text: run.text,
    author,
    note: `from shadow ${id}`,
  });
}

export async function discardShadow(store: Store, id: number): Promise<void> {
  const run = await store.getShadow(id);
  if (!run) throw new ClusterError(`no shadow run ${id}`);
  if (!(await store.endShadow(id, "discarded"))) throw new ClusterError(`shadow run ${id} is ${run.state}`);
}

export function formatShadowReport(run: ShadowRun, report: ShadowReport): string {
  const total = Object.values(report.evaluated).reduce((a, b) => a + b, 0);
  const lines = [
    `shadow ${run.id} (role ${run.role}, ${run.state}, nodes ${run.nodes.length ? run.nodes.join(",") : "all"})`,
    `evaluated ${total} messages (${
      Object.entries(report.evaluated)
        .map(([n, c]) => `${n} ${c}`)
        .join(", ") || "none yet"
    }); ${report.diffs.length} recipient actions would change`,
  ];
  if (report.diffs.length) {
    lines.push(
      "",
      "AT                        NODE        MESSAGE            RECIPIENT                       LIVE → SHADOW",
    );
    for (const d of report.diffs) {
      lines.push(
        `${d.at.toISOString().padEnd(25)} ${d.node.padEnd(11)} ${d.messageId.padEnd(18)} ${d.recipient.padEnd(31)} ${d.liveAction} → ${d.shadowAction}`,
      );
    }
  }
  return lines.join("\n") + "\n";
}
