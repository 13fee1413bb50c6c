// Commits a message's outcome before the client hears 250: quarantine and hold copies are
// written to the store first, then each delivery group goes to its next hop. If nothing
// reached the next hop, the store writes are undone and the client gets the failure, so a
// retry neither loses nor duplicates. A partial failure keeps the undelivered copy in the
// quarantine (reason given) rather than bouncing or dropping it.
import type { Logger } from "pino";
import type { Transaction } from "../message/transaction.ts";
import type { Address } from "../message/envelope.ts";
import { messageBuffer, messageStream } from "../message/rewrite.ts";
import type { DataResult, OutcomeGroup } from "../pipeline/session.ts";
import type { HeaderEdit, SmtpReply } from "../pipeline/types.ts";
import type { Store } from "../store/types.ts";
import type { Routes } from "./nexthop/route.ts";
import type { DeliveryFailure } from "./nexthop/types.ts";

export interface CommitDeps {
  store: Store | null;
  routes: Routes;
  /** The delivery target of a recipient (tenant route or the node default). */
  routeFor(address: string): string;
  /** The tenant a recipient belongs to (for quarantine and hold entries). */
  tenantFor(address: string): string | null;
  log: Logger;
}

const STORE_DOWN: SmtpReply = {
  code: 451,
  enhanced: "4.3.0",
  text: "Temporary storage failure, try again later",
};

export async function commitOutcome(
  tx: Transaction,
  result: DataResult,
  trace: HeaderEdit[],
  deps: CommitDeps,
): Promise<SmtpReply> {
  if (result.reply) return result.reply;
  const ref = tx.id;
  const written: { kind: "quarantine" | "hold"; id: string }[] = [];
  const undo = async () => {
    for (const w of written) {
      await (
        w.kind === "quarantine" ? deps.store!.deleteQuarantine(w.id) : deps.store!.deleteHold(w.id)
      ).catch(() => undefined);
    }
  };

  // 1. Durable copies first.
  const quarantined = result.groups.filter((g) => g.disposition === "quarantine");
  const held = result.groups.filter((g) => g.disposition === "hold");
  if ((quarantined.length || held.length) && !deps.store) return withRef(STORE_DOWN, ref);
  try {
    if (quarantined.length) {
      await quarantine(
        tx,
        ref,
        trace,
        quarantined.flatMap((g) =>
          g.recipients.map((address) => ({ address, reason: g.reason ?? "policy" })),
        ),
        result,
        deps,
      );
      written.push({ kind: "quarantine", id: ref });
    }
    for (const [i, g] of held.entries()) {
      const id = `${ref}-H${i + 1}`;
      await deps.store!.putHold({
        id,
        tenant: deps.tenantFor(g.recipients[0]!),
        envelope: {
          ...tx.envelope,
          recipients: tx.envelope.recipients.filter((r) => g.recipients.includes(r.address.toLowerCase())),
        },
        reason: g.reason ?? "held by policy",
        releaseAt: new Date(Date.now() + (g.holdMinutes ?? 5) * 60_000),
        message: await messageBuffer(tx, [...trace, ...g.edits]),
      });
      written.push({ kind: "hold", id });
    }
  } catch (err) {
    deps.log.error({ id: ref, err: (err as Error).message }, "store write failed");
    await undo();
    return withRef(STORE_DOWN, ref);
  }

  // 2. Deliveries, one transaction per group and route.
  const delivered: string[] = [];
  const failed: DeliveryFailure[] = [];
  for (const g of result.groups.filter((x) => x.disposition === "deliver")) {
    for (const [target, rcpts] of byRoute(g, tx, deps)) {
      const hop = deps.routes.hop(target);
      const edits = [...trace, ...g.edits];
      const res = await hop.deliver({
        id: ref,
        from: tx.envelope.mailFrom ?? { address: "", params: {} },
        recipients: rcpts,
        size: tx.size,
        message: () => messageStream(tx, edits),
      });
      delivered.push(...res.accepted);
      failed.push(...res.failed);
      deps.log.info({ id: ref, next_hop: target, accepted: res.accepted, failed: res.failed }, "delivery");
    }
  }

  if (failed.length === 0) return { code: 250, enhanced: "2.0.0", text: `Ok: queued as ${ref}` };
  if (delivered.length === 0 && written.length === 0) {
    // Nothing left our hands: mirror the next hop (all permanent → its 5xx, else a 4xx).
    const perm = failed.every((f) => f.permanent);
    return withRef(
      perm ? failed[0]!.reply : (failed.find((f) => !f.permanent)?.reply ?? failed[0]!.reply),
      ref,
    );
  }
  if (delivered.length === 0 && failed.every((f) => !f.permanent)) {
    await undo();
    return withRef(failed[0]!.reply, ref);
  }
  // 3. Partial: some copies are out, so the rest must be kept, never bounced nor lost.
  try {
    const id = `${ref}-F`;
    await quarantine(
      tx,
      id,
      trace,
      failed.map((f) => ({
        address: f.address,
        reason: `next hop ${f.permanent ? "refused" : "deferred"}: ${f.reply.code} ${f.reply.enhanced} ${f.reply.text}`,
      })),
      result,
      deps,
    );
  } catch (err) {
    deps.log.error({ id: ref, err: (err as Error).message }, "could not keep undelivered copies");
    return withRef(STORE_DOWN, ref);
  }
  return { code: 250, enhanced: "2.0.0", text: `Ok: queued as ${ref}` };
}

async function quarantine(
  tx: Transaction,
  id: string,
  trace: HeaderEdit[],
  recipients: { address: string; reason: string }[],
  result: DataResult,
  deps: CommitDeps,
): Promise<void> {
  const verdicts = result.verdicts.filter((v) => recipients.some((r) => r.address === v.address));
  await deps.store!.putQuarantine({
    id,
    tenant: deps.tenantFor(recipients[0]!.address),
    envelope: tx.envelope,
    score: Math.max(0, ...verdicts.map((v) => v.score)),
    symbols: verdicts[0]?.symbols ?? [],
    subject: tx.headers.decoded("Subject"),
    message: await messageBuffer(tx, trace),
    recipients,
  });
}

function byRoute(g: OutcomeGroup, tx: Transaction, deps: CommitDeps): Map<string, Address[]> {
  const out = new Map<string, Address[]>();
  const params = new Map(tx.envelope.recipients.map((r) => [r.address.toLowerCase(), r.params]));
  const targets = g.redirect ? [g.redirect] : g.recipients;
  for (const a of [...targets, ...g.bcc]) {
    const route = deps.routeFor(a);
    const list = out.get(route) ?? [];
    list.push({ address: a, params: params.get(a.toLowerCase()) ?? {} });
    out.set(route, list);
  }
  return out;
}

function withRef(r: SmtpReply, ref: string): SmtpReply {
  return r.text.includes(ref) ? r : { ...r, text: `${r.text} [ref ${ref}]` };
}
