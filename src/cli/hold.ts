// `sluice hold list|release|cancel`: lists the hold queue and calls the hold operations
// (src/quarantine/). Argument parsing lives in main.ts.
import type { Runtime } from "../runtime.ts";
import { createQuarantineOps } from "../quarantine/index.ts";
import { CliUsageError, parseSince, type ListFilters } from "./quarantine.ts";

export async function holdList(runtime: Runtime, f: ListFilters): Promise<string> {
  if (!runtime.store) throw new CliUsageError("no store: check the configuration's store: setting");
  const states = ["held", "released", "cancelled"];
  if (f.state && !states.includes(f.state)) throw new CliUsageError(`--state: one of ${states.join(", ")}`);
  const since = parseSince(f.since);
  const rcpt = f.recipient?.toLowerCase();
  const items = (
    await runtime.store.listHolds({ tenant: f.tenant, state: f.state as "held" | undefined, limit: 10_000 })
  )
    .filter((h) => !since || h.createdAt >= since)
    .filter((h) => !rcpt || h.envelope.recipients.some((r) => r.address.toLowerCase() === rcpt))
    .slice(0, f.limit ? Number(f.limit) : 100);
  if (f.json) return items.map((i) => JSON.stringify(i)).join("\n") + (items.length ? "\n" : "");
  const lines = items.map((h) =>
    [
      h.id,
      h.state,
      h.releaseAt.toISOString(),
      h.envelope.mailFrom?.address || "<>",
      h.envelope.recipients.map((r) => r.address).join(","),
      h.approver ? `approval:${h.approvedBy ? `by ${h.approvedBy}` : `waits for ${h.approver}`}` : "-",
      JSON.stringify(h.reason),
    ].join("\t"),
  );
  return ["ID\tSTATE\tRELEASE_AT\tFROM\tRECIPIENTS\tAPPROVAL\tREASON", ...lines].join("\n") + "\n";
}

export async function holdRelease(
  runtime: Runtime,
  id: string,
  o: { actor: string; approve?: boolean },
): Promise<string> {
  const ops = createQuarantineOps(runtime);
  if (o.approve) await ops.approveHold(id, { actor: o.actor });
  else await ops.releaseHold(id, { actor: o.actor });
  return `released ${id}\n`;
}

export async function holdCancel(runtime: Runtime, id: string, o: { actor: string }): Promise<string> {
  await createQuarantineOps(runtime).cancelHold(id, { actor: o.actor });
  return `cancelled ${id}\n`;
}
