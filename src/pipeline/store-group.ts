// Writes one outcome group (quarantine or hold) to the store as its own entry: used by the
// milter, which commits groups one at a time. The SMTP proxy commits a whole outcome in
// smtp/deliver.ts. A resolved promise means the copy is durable.
import type { Logger } from "pino";
import { messageBuffer } from "../message/rewrite.ts";
import type { Transaction } from "../message/transaction.ts";
import type { Store } from "../store/types.ts";
import type { OutcomeGroup } from "./session.ts";

export async function storeGroup(
  store: Store | null,
  tx: Transaction,
  group: OutcomeGroup,
  tenantFor: (address: string) => string | null,
  log: Logger,
): Promise<void> {
  if (!store) throw new Error("no store configured: cannot quarantine or hold");
  const tenant = tenantFor(group.recipients[0]!);
  const envelope = {
    ...tx.envelope,
    recipients: tx.envelope.recipients.filter((r) => group.recipients.includes(r.address.toLowerCase())),
  };
  if (group.disposition === "hold") {
    let id = `${tx.id}-H1`;
    for (let n = 2; await store.getHold(id); n++) id = `${tx.id}-H${n}`;
    await store.putHold({
      id,
      tenant,
      envelope,
      reason: group.reason ?? "held by policy",
      releaseAt: new Date(Date.now() + (group.holdMinutes ?? 5) * 60_000),
      message: await messageBuffer(tx, group.edits),
    });
    log.info({ id: tx.id, hold: id, recipients: group.recipients }, "held");
    return;
  }
  let id = tx.id;
  for (let n = 2; await store.getQuarantine(id); n++) id = `${tx.id}-Q${n}`;
  await store.putQuarantine({
    id,
    tenant,
    envelope,
    score: 0,
    symbols: [],
    subject: tx.headers.decoded("Subject"),
    message: await messageBuffer(tx, []),
    recipients: group.recipients.map((address) => ({ address, reason: group.reason ?? "policy" })),
  });
  log.info({ id: tx.id, quarantine: id, recipients: group.recipients }, "quarantined");
}
