// After a message is committed: send the notifications its verdicts asked for (Sieve
// notify_template, virus notices). Runs after the client's reply; a failure is logged only.
import type { Logger } from "pino";
import type { Transaction } from "../message/transaction.ts";
import type { DataResult } from "../pipeline/session.ts";
import type { PolicyResolver } from "../policy/resolve.ts";
import type { ActionType } from "../pipeline/types.ts";
import type { Notification } from "../message/types.ts";
import type { NotificationSender } from "../notify/index.ts";
import { hasFindings, notificationsFor } from "../filters/virus/notifications.ts";

export async function sendAfterCommit(
  tx: Transaction,
  result: DataResult,
  quarantineIdOf: (address: string) => string | null,
  resolver: PolicyResolver,
  sender: NotificationSender,
  log: Logger,
): Promise<void> {
  const list = [...(result.notifications ?? [])];
  // Virus notices need each recipient's policy: looked up only when there is a finding.
  if (result.verdicts.some((v) => hasFindings(v.symbols))) {
    list.push(
      ...(await virusNotices(tx, result, quarantineIdOf, resolver).catch((err: Error) => {
        log.warn({ id: tx.id, err: err.message }, "could not build virus notifications");
        return [];
      })),
    );
  }
  for (const n of list) {
    await sender.send("", n.to, n.message).then(
      () => log.info({ id: tx.id, to: n.to }, "notification sent"),
      (err: Error) => log.warn({ id: tx.id, to: n.to, err: err.message }, "notification failed"),
    );
  }
}

async function virusNotices(
  tx: Transaction,
  result: DataResult,
  quarantineIdOf: (address: string) => string | null,
  resolver: PolicyResolver,
): Promise<Notification[]> {
  const recipients = await Promise.all(
    result.verdicts.map(async (v) => ({
      address: v.address,
      policy: await resolver.forRecipient(v.address),
      action: v.action as ActionType,
      symbols: v.symbols,
      quarantineId: v.action === "quarantine" ? quarantineIdOf(v.address) : null,
    })),
  );
  const notices = await notificationsFor({
    envelope: tx.envelope,
    message: {
      subject: tx.headers.decoded("Subject") ?? "",
      from: tx.headers.decoded("From") ?? "",
      date: tx.headers.get("Date") ?? "",
    },
    recipients,
    senderTenant: resolver.senderTenant(tx.envelope),
  });
  return notices.map((n) => ({ to: n.to, message: n.message }));
}
