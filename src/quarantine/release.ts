// Exactly-once release of stored copies (quarantine and hold) to the next hop, as a state
// machine in the store: claim (reserve recipients under an idempotency key) → deliver (send,
// then record the next hop's answer) → finish (states updated). A crash at any step boundary
// is resumed from the store by resumeReleases() and sends nothing twice; the one window left
// is the instant between the next hop's 250 and its record (RFC 1047's duplicate window),
// where the copy carries X-Sluice-Released with the key so the final store can drop a repeat.
// Not for deciding who may release (index.ts) nor when (hold-scheduler.ts).
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import type { Runtime } from "../runtime.ts";
import type { Envelope } from "../message/envelope.ts";
import { Routes } from "../delivery/nexthop/route.ts";
import { sendCopy } from "../delivery/send.ts";
import type { ReleaseClaim, ReleaseClaimInput, Store } from "../store/types.ts";

export const RELEASED_HEADER = "X-Sluice-Released";
/** A hold whose next hop deferred every recipient is tried again after this long. */
export const HOLD_RETRY_MS = 5 * 60_000;

export class ReleaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReleaseError";
  }
}

export function storeOf(runtime: Runtime): Store {
  if (!runtime.store) throw new ReleaseError("no store is configured on this node");
  return runtime.store;
}

export function routesFor(runtime: Runtime): Routes {
  const smtp = runtime.config.smtp;
  return new Routes(smtp.hostname, smtp.limits.next_hop_timeout_s * 1000, runtime.metrics.registry);
}

export function routeOf(runtime: Runtime, address: string): string {
  return runtime.resolver.routeFor(address);
}

export interface Outcome {
  accepted: string[];
  failed: { address: string; reason: string; permanent: boolean }[];
}

/** One copy of `message` to `recipients` (grouped by route) with the original envelope sender. */
export async function deliverCopy(
  runtime: Runtime,
  routes: Routes,
  req: { id: string; envelope: Envelope | null; from?: string; recipients: string[]; message: Buffer },
): Promise<Outcome> {
  const res = await sendCopy(
    routes,
    (a) => routeOf(runtime, a),
    {
      id: req.id,
      from:
        req.from !== undefined
          ? { address: req.from, params: {} }
          : (req.envelope?.mailFrom ?? { address: "", params: {} }),
      recipients: req.recipients,
      envelope: req.envelope,
      size: req.message.length,
      message: () => Readable.from([req.message]),
    },
    runtime.log,
  );
  return {
    accepted: res.accepted.map((a) => a.toLowerCase()),
    failed: res.failed.map((f) => ({
      address: f.address.toLowerCase(),
      reason: `${f.reply.code} ${f.reply.enhanced} ${f.reply.text}`,
      permanent: f.permanent,
    })),
  };
}

export function newKey(prefix: string): string {
  return `${prefix}:${randomUUID()}`;
}

/** Step 1: reserve. The same key twice returns the same claim. */
export async function claimStep(runtime: Runtime, input: ReleaseClaimInput): Promise<ReleaseClaim> {
  return storeOf(runtime).claimRelease(input);
}

/** Step 2: send the reserved copy and record the answer (claimed → delivered). */
export async function deliverStep(
  runtime: Runtime,
  routes: Routes,
  claim: ReleaseClaim,
): Promise<ReleaseClaim> {
  const store = storeOf(runtime);
  if (claim.state !== "claimed") return claim;
  let outcome: Outcome;
  if (claim.kind === "quarantine") {
    const item = await store.getQuarantine(claim.itemId);
    const raw = await store.quarantineMessage(claim.itemId);
    if (!item || !raw) throw new ReleaseError(`quarantine entry ${claim.itemId} is gone`);
    const head = Buffer.from(`${RELEASED_HEADER}: ${claim.itemId}; key=${claim.key}\r\n`);
    outcome = await deliverCopy(runtime, routes, {
      id: claim.itemId,
      envelope: item.envelope,
      recipients: claim.recipients,
      message: Buffer.concat([head, raw]),
    });
  } else {
    const hold = await store.getHold(claim.itemId);
    const raw = await store.holdMessage(claim.itemId);
    if (!hold || !raw) throw new ReleaseError(`hold entry ${claim.itemId} is gone`);
    const tenant = runtime.config.tenants.find((t) => t.id === hold.tenant);
    const supervisors = (tenant?.hold?.supervisor_bcc ?? []).filter((s) => !claim.recipients.includes(s));
    outcome = await deliverCopy(runtime, routes, {
      id: claim.itemId,
      envelope: hold.envelope,
      recipients: [...claim.recipients, ...supervisors],
      message: raw,
    });
  }
  const failed = outcome.failed.map((f) => ({
    address: f.address,
    reason: `${f.permanent ? "refused" : "deferred"}: ${f.reason}`,
  }));
  await store.recordReleaseDelivery(claim.key, outcome.accepted, failed);
  return (await store.getRelease(claim.key))!;
}

/** Step 3: update the item (delivered → done); a hold's undeliverable copies are kept in the quarantine. */
export async function finishStep(runtime: Runtime, claim: ReleaseClaim): Promise<ReleaseClaim> {
  const store = storeOf(runtime);
  if (claim.state === "done") return claim;
  if (claim.kind === "hold" && claim.state === "delivered") {
    const accepted = claim.accepted.filter((a) => claim.recipients.includes(a));
    const allDeferred = accepted.length === 0 && claim.failed.every((f) => f.reason.startsWith("deferred"));
    if (allDeferred) {
      await store.finishRelease(claim.key);
      await store.updateHold(claim.itemId, { releaseAt: new Date(Date.now() + HOLD_RETRY_MS) });
      return (await store.getRelease(claim.key))!;
    }
    const undelivered = claim.failed.filter((f) => claim.recipients.includes(f.address));
    const fid = `${claim.itemId}-F`;
    if (undelivered.length && !(await store.getQuarantine(fid))) {
      const hold = await store.getHold(claim.itemId);
      const raw = await store.holdMessage(claim.itemId);
      if (hold && raw) {
        await store.putQuarantine({
          id: fid,
          tenant: hold.tenant,
          envelope: hold.envelope,
          score: 0,
          symbols: [],
          subject: null,
          message: raw,
          recipients: undelivered.map((f) => ({ address: f.address, reason: `held mail ${f.reason}` })),
        });
      }
    }
    await store.finishRelease(claim.key);
    if (accepted.length === 0) await store.setHoldState(claim.itemId, "held", "cancelled");
    return (await store.getRelease(claim.key))!;
  }
  await store.finishRelease(claim.key);
  return (await store.getRelease(claim.key))!;
}

/** Drive a claim through whatever steps it still needs. */
export async function runClaim(runtime: Runtime, routes: Routes, claim: ReleaseClaim): Promise<ReleaseClaim> {
  const delivered = await deliverStep(runtime, routes, claim);
  return finishStep(runtime, delivered);
}

/** Resume every release a crash left open (at start-up, before the jobs run). */
export async function resumeReleases(runtime: Runtime, routes: Routes): Promise<ReleaseClaim[]> {
  const open = await storeOf(runtime).openReleases();
  const out: ReleaseClaim[] = [];
  for (const c of open) {
    runtime.log.warn({ key: c.key, id: c.itemId, state: c.state }, "resuming an interrupted release");
    out.push(await runClaim(runtime, routes, c));
  }
  return out;
}
