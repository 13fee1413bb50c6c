// The milter's commit of the copies the MTA does not keep: quarantine and hold groups are
// stored (copies.ts, one per tenant), other delivery groups are re-injected to a milter-less
// MTA port through the same next hop and header-edit applier the proxy uses. Nothing here
// speaks the milter protocol; the milter server calls commitExtraCopies before its answer.
import type { Logger } from "pino";
import { messageStream } from "../message/rewrite.ts";
import type { Transaction } from "../message/transaction.ts";
import type { DataResult, OutcomeGroup } from "../pipeline/session.ts";
import type { Store } from "../store/types.ts";
import { CopyIds, discardCopies, keepCopies, storeCopies, type OwnerOf, type StoredCopy } from "./copies.ts";
import type { NextHop } from "./nexthop/types.ts";

export interface ExtraCopies {
  /** Quarantine and hold groups. */
  store: OutcomeGroup[];
  /** Delivery groups other than the one the MTA keeps. */
  reinject: OutcomeGroup[];
}

export interface ReinjectDeps {
  store: Store | null;
  owner: OwnerOf;
  /** The milter-less MTA port (milter.reinject); null when none is configured. */
  hop: NextHop | null;
  log: Logger;
}

export class ReinjectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReinjectError";
  }
}

/**
 * Stores and re-injects every extra copy. Throws (the MTA then answers 4xx) only while nothing
 * has left our hands: stored copies are undone. Once one copy was handed on, a later refusal
 * keeps that copy in the quarantine with the next hop's reason, as the proxy does.
 */
export async function commitExtraCopies(
  tx: Transaction,
  result: DataResult,
  extra: ExtraCopies,
  deps: ReinjectDeps,
): Promise<StoredCopy[]> {
  const ctx = {
    store: deps.store,
    owner: deps.owner,
    ids: new CopyIds(tx.id),
    verdicts: result.verdicts,
    trace: [],
    log: deps.log,
  };
  const copies = await storeCopies(tx, extra.store, ctx);
  let handedOn = false;
  const failed: { address: string; reason: string }[] = [];
  for (const g of extra.reinject) {
    const res = deps.hop
      ? await reinjectGroup(tx, g, deps.hop)
      : { accepted: [], failed: recipientsOf(g).map((address) => ({ address, reason: NO_PORT })) };
    deps.log.info({ id: tx.id, accepted: res.accepted, failed: res.failed }, "reinjected");
    if (res.accepted.length) handedOn = true;
    failed.push(...res.failed);
  }
  if (!failed.length) return copies;
  if (!handedOn) {
    await discardCopies(deps.store, copies);
    throw new ReinjectError(`re-injection failed: ${failed[0]!.reason}`);
  }
  return [...copies, ...(await keepCopies(tx, failed, "undelivered", ctx))];
}

const NO_PORT = "recipients with different outcomes need milter.reinject (a milter-less MTA port)";

function recipientsOf(g: OutcomeGroup): string[] {
  return [...(g.redirect ? [g.redirect] : g.recipients), ...g.bcc];
}

async function reinjectGroup(
  tx: Transaction,
  g: OutcomeGroup,
  hop: NextHop,
): Promise<{ accepted: string[]; failed: { address: string; reason: string }[] }> {
  const params = new Map(tx.envelope.recipients.map((r) => [r.address.toLowerCase(), r.params]));
  const res = await hop.deliver({
    id: tx.id,
    from: tx.envelope.mailFrom ?? { address: "", params: {} },
    recipients: recipientsOf(g).map((address) => ({
      address,
      params: params.get(address.toLowerCase()) ?? {},
    })),
    size: tx.size,
    message: () => messageStream(tx, g.edits),
  });
  return {
    accepted: res.accepted,
    failed: res.failed.map((f) => ({
      address: f.address.toLowerCase(),
      reason: `re-injection ${f.permanent ? "refused" : "deferred"}: ${f.reply.code} ${f.reply.enhanced} ${f.reply.text}`,
    })),
  };
}
