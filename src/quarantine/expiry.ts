// The quarantine retention job: recipients still quarantined after their tenant's
// `retention_days` become expired; entries with nothing left quarantined are deleted after
// `purge_after_days`. Entries of no tenant use the defaults. Releases in flight are left alone.
import type { Runtime } from "../runtime.ts";
import { storeOf } from "./release.ts";

const DEFAULT_RETENTION_DAYS = 30;
const DEFAULT_PURGE_DAYS = 60;
const DAY = 86_400_000;

export async function runExpiry(
  runtime: Runtime,
  now = new Date(),
): Promise<{ expired: number; purged: number }> {
  const store = storeOf(runtime);
  const tenants = new Map(runtime.config.tenants.map((t) => [t.id, t]));
  const retention = (tenant: string | null) =>
    (tenant ? tenants.get(tenant)?.quarantine?.retention_days : undefined) ?? DEFAULT_RETENTION_DAYS;
  const purge = (tenant: string | null) =>
    (tenant ? tenants.get(tenant)?.quarantine?.purge_after_days : undefined) ?? DEFAULT_PURGE_DAYS;
  const minRetention = Math.min(DEFAULT_RETENTION_DAYS, ...[...tenants.values()].map((t) => retention(t.id)));
  const minPurge = Math.min(DEFAULT_PURGE_DAYS, ...[...tenants.values()].map((t) => purge(t.id)));
  const busy = new Set((await store.openReleases()).map((c) => c.itemId));
  let expired = 0;
  let purged = 0;
  const old = await store.listQuarantine({
    state: "quarantined",
    before: new Date(now.getTime() - minRetention * DAY),
    limit: 1000,
  });
  for (const q of old) {
    if (busy.has(q.id) || q.createdAt.getTime() > now.getTime() - retention(q.tenant) * DAY) continue;
    for (const r of q.recipients) {
      if (
        r.state === "quarantined" &&
        (await store.setQuarantineState(q.id, r.address, "quarantined", "expired"))
      )
        expired++;
    }
  }
  const older = await store.listQuarantine({ before: new Date(now.getTime() - minPurge * DAY), limit: 1000 });
  for (const q of older) {
    if (busy.has(q.id) || q.createdAt.getTime() > now.getTime() - purge(q.tenant) * DAY) continue;
    if (q.recipients.some((r) => r.state === "quarantined")) continue;
    await store.deleteQuarantine(q.id);
    purged++;
  }
  if (expired || purged) runtime.log.info({ expired, purged }, "quarantine expiry");
  return { expired, purged };
}
