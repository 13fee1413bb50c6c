// `sluice quarantine list|show|release|delete`: formats store entries and calls the
// quarantine operations (src/quarantine/). Argument parsing lives in main.ts.
import type { Runtime } from "../runtime.ts";
import { createQuarantineOps } from "../quarantine/index.ts";

export interface ListFilters {
  tenant?: string;
  recipient?: string;
  since?: string;
  state?: string;
  limit?: string;
  json?: boolean;
}

export function parseSince(since: string | undefined): Date | undefined {
  if (since === undefined) return undefined;
  const rel = /^(\d+)([mhd])$/.exec(since);
  if (rel)
    return new Date(
      Date.now() - Number(rel[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as "m" | "h" | "d"],
    );
  const d = new Date(since);
  if (Number.isNaN(d.getTime()))
    throw new CliUsageError(`--since: expected an ISO date or 30m/12h/7d, got "${since}"`);
  return d;
}

export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliUsageError";
  }
}

function storeOf(runtime: Runtime) {
  if (!runtime.store) throw new CliUsageError("no store: check the configuration's store: setting");
  return runtime.store;
}

export async function quarantineList(runtime: Runtime, f: ListFilters): Promise<string> {
  const states = ["quarantined", "released", "deleted", "expired"];
  if (f.state && !states.includes(f.state)) throw new CliUsageError(`--state: one of ${states.join(", ")}`);
  const items = await storeOf(runtime).listQuarantine({
    tenant: f.tenant,
    recipient: f.recipient,
    state: f.state as "quarantined" | undefined,
    since: parseSince(f.since),
    limit: f.limit ? Number(f.limit) : 100,
  });
  if (f.json) return items.map((i) => JSON.stringify(i)).join("\n") + (items.length ? "\n" : "");
  const lines = items.map((i) =>
    [
      i.id,
      i.createdAt.toISOString(),
      i.tenant ?? "-",
      i.envelope.mailFrom?.address || "<>",
      i.recipients.map((r) => `${r.address}:${r.state}`).join(","),
      JSON.stringify(i.subject ?? ""),
    ].join("\t"),
  );
  return ["ID\tCREATED\tTENANT\tFROM\tRECIPIENTS\tSUBJECT", ...lines].join("\n") + "\n";
}

export async function quarantineShow(runtime: Runtime, id: string, o: { raw?: boolean }): Promise<string> {
  const store = storeOf(runtime);
  const q = await store.getQuarantine(id);
  if (!q) throw new CliUsageError(`no quarantine entry ${id}`);
  if (o.raw) return ((await store.quarantineMessage(id)) ?? Buffer.alloc(0)).toString("utf8");
  const rows = [
    `id: ${q.id}`,
    `created: ${q.createdAt.toISOString()}`,
    `tenant: ${q.tenant ?? "-"}`,
    `from: ${q.envelope.mailFrom?.address || "<>"}`,
    `subject: ${q.subject ?? ""}`,
    `score: ${q.score}`,
    `symbols: ${q.symbols.map((s) => `${s.name}(${s.score})`).join(" ")}`,
    `size: ${q.size}`,
    ...q.recipients.map(
      (r) => `recipient: ${r.address} ${r.state} (${r.reason}) ${r.updatedAt.toISOString()}`,
    ),
  ];
  return rows.join("\n") + "\n";
}

export async function quarantineRelease(
  runtime: Runtime,
  id: string,
  o: { rcpt: string[]; actor: string; learnHam?: boolean },
): Promise<{ text: string; ok: boolean }> {
  const res = await createQuarantineOps(runtime).release(id, o.rcpt.length ? o.rcpt : "all", {
    actor: o.actor,
    learnAsHam: o.learnHam,
  });
  const text =
    res.released.map((a) => `released ${id} to ${a}\n`).join("") +
    res.failed.map((f) => `not released ${id} to ${f.address}: ${f.reason}\n`).join("");
  return {
    text: text || `nothing to release in ${id}\n`,
    ok: res.failed.length === 0 && res.released.length > 0,
  };
}

export async function quarantineDelete(
  runtime: Runtime,
  id: string,
  o: { rcpt: string[]; actor: string },
): Promise<string> {
  await createQuarantineOps(runtime).remove(id, o.rcpt.length ? o.rcpt : "all", { actor: o.actor });
  return `deleted ${id}${o.rcpt.length ? ` for ${o.rcpt.join(", ")}` : ""}\n`;
}
