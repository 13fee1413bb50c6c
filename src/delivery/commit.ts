// The SMTP proxy's commit: the outcome is made safe before the client hears 250. Stored
// copies (quarantine, hold: one per tenant, copies.ts) are written first, then each delivery
// group goes to its next hop. If nothing reached the next hop, the store writes are undone and
// the client gets the failure, so a retry neither loses nor duplicates. A partial failure keeps
// the undelivered copy in the quarantine (reason given) rather than bouncing or dropping it.
import type { Logger } from "pino";
import type { Transaction } from "../message/transaction.ts";
import { messageStream } from "../message/rewrite.ts";
import type { DataResult } from "../pipeline/session.ts";
import type { HeaderEdit, SmtpReply } from "../message/types.ts";
import type { Store } from "../store/types.ts";
import type { Routes } from "./nexthop/route.ts";
import type { DeliveryFailure } from "./nexthop/types.ts";
import { sendCopy } from "./send.ts";
import {
  CopyIds,
  discardCopies,
  keepCopies,
  storeCopies,
  type CopyContext,
  type OwnerOf,
  type StoredCopy,
} from "./copies.ts";
import { reply } from "../message/replies.ts";

export interface CommitDeps {
  store: Store | null;
  routes: Routes;
  /** The delivery target of a recipient (tenant route or the node default). */
  routeFor(address: string): string;
  /** The tenant that owns a stored copy for a recipient (PolicyResolver.ownerOf). */
  owner: OwnerOf;
  log: Logger;
}

export interface Committed {
  reply: SmtpReply;
  /** Every stored copy (quarantine, hold, undelivered), for notices and the log. */
  copies: StoredCopy[];
}

const STORE_DOWN: SmtpReply = reply("storeDown");

export async function commitOutcome(
  tx: Transaction,
  result: DataResult,
  trace: HeaderEdit[],
  deps: CommitDeps,
): Promise<Committed> {
  if (result.reply) return { reply: result.reply, copies: [] };
  const ref = tx.id;
  const copyCtx: CopyContext = {
    store: deps.store,
    owner: deps.owner,
    ids: new CopyIds(ref),
    verdicts: result.verdicts,
    trace,
    log: deps.log,
  };

  // 1. Durable copies first (one per tenant).
  let written: StoredCopy[];
  try {
    written = await storeCopies(tx, result.groups, copyCtx);
  } catch (err) {
    deps.log.error({ id: ref, err: (err as Error).message }, "store write failed");
    return { reply: withRef(STORE_DOWN, ref), copies: [] };
  }
  const ok = (copies: StoredCopy[]): Committed => ({
    reply: reply("queued", { ref }),
    copies,
  });

  // 2. Deliveries, one transaction per group and route.
  const delivered: string[] = [];
  const failed: DeliveryFailure[] = [];
  for (const g of result.groups.filter((x) => x.disposition === "deliver")) {
    const edits = [...trace, ...g.edits];
    const res = await sendCopy(
      deps.routes,
      deps.routeFor,
      {
        id: ref,
        from: tx.envelope.mailFrom ?? { address: "", params: {} },
        recipients: [...(g.redirect ? [g.redirect] : g.recipients), ...g.bcc],
        envelope: tx.envelope,
        size: tx.size,
        message: () => messageStream(tx, edits),
      },
      deps.log,
    );
    delivered.push(...res.accepted);
    failed.push(...res.failed);
  }

  if (failed.length === 0) return ok(written);
  if (delivered.length === 0 && written.length === 0) {
    // Nothing left our hands: mirror the next hop (all permanent → its 5xx, else a 4xx).
    const perm = failed.every((f) => f.permanent);
    const reply = perm ? failed[0]!.reply : (failed.find((f) => !f.permanent)?.reply ?? failed[0]!.reply);
    return { reply: withRef(reply, ref), copies: [] };
  }
  if (delivered.length === 0 && failed.every((f) => !f.permanent)) {
    await discardCopies(deps.store, written);
    return { reply: withRef(failed[0]!.reply, ref), copies: [] };
  }
  // 3. Partial: some copies are out, so the rest must be kept, never bounced nor lost.
  try {
    const kept = await keepCopies(
      tx,
      failed.map((f) => ({
        address: f.address.toLowerCase(),
        reason: `next hop ${f.permanent ? "refused" : "deferred"}: ${f.reply.code} ${f.reply.enhanced} ${f.reply.text}`,
      })),
      "undelivered",
      copyCtx,
    );
    return ok([...written, ...kept]);
  } catch (err) {
    deps.log.error({ id: ref, err: (err as Error).message }, "could not keep undelivered copies");
    return { reply: withRef(STORE_DOWN, ref), copies: written };
  }
}

function withRef(r: SmtpReply, ref: string): SmtpReply {
  return r.text.includes(ref) ? r : { ...r, text: `${r.text} [ref ${ref}]` };
}
