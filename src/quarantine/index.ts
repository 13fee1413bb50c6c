// Quarantine and hold queue operations (issue 9): what the console, the CLI and signed links
// call — release (exactly once, see release.ts), delete, report spam, and the hold's send-now,
// cancel and approve. Trusts its caller to have authenticated `actor`; checks approvers itself.
// Not for scheduling (hold-scheduler.ts, jobs.ts) nor for choosing what to hold (filters/outbound/).
import type { Runtime } from "../runtime.ts";
import type { Routes } from "../delivery/nexthop/route.ts";
import { claimStep, newKey, ReleaseError, routesFor, runClaim, storeOf } from "./release.ts";
import { releaseHoldNow } from "./hold-scheduler.ts";
import { linkKeys } from "./links.ts";
import { mayRelease } from "./may-release.ts";
import { learnForRecipient, type FeedbackOutcome } from "../filters/spam/feedback.ts";

export { LinkKeys, linkKeys, verifyDigestLink, verifyHoldLink } from "./links.ts";
export { mayRelease, needsAdmin, type Releaser } from "./may-release.ts";
export { RELEASED_HEADER, ReleaseError, resumeReleases } from "./release.ts";
export { startQuarantineJobs, type QuarantineJobs } from "./jobs.ts";

export class HoldError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HoldError";
  }
}

/** Feeds a classifier with a user's judgement ("release and learn as ham", "report as spam"). */
export interface SpamLearner {
  /** `recipient`: whose policy names the model; `actor`: who judged (per-user caps). */
  learn(
    message: Buffer,
    label: "spam" | "ham",
    who: { actor: string; recipient: string },
  ): Promise<FeedbackOutcome>;
}

/** Lessons for the model of the recipient's policy, kept in the store (filters/spam/feedback.ts). */
export function classifierLearner(runtime: Runtime): SpamLearner {
  return {
    async learn(message, label, who) {
      const policy = await runtime.resolver.forRecipient(who.recipient);
      return learnForRecipient(
        runtime.spamLearning,
        policy.filters["spam-classifier"],
        policy.tenant?.id ?? null,
        {
          message,
          label,
          source: label === "ham" ? "release" : "feedback",
          actor: who.actor,
          recipient: who.recipient,
        },
      );
    },
  };
}

export interface QuarantineOps {
  release(
    id: string,
    recipients: string[] | "all",
    opts: { actor: string; learnAsHam?: boolean },
  ): Promise<{ released: string[]; failed: { address: string; reason: string }[] }>;
  remove(id: string, recipients: string[] | "all", opts: { actor: string }): Promise<void>;
  reportSpam(id: string, opts: { actor: string }): Promise<void>;
  releaseHold(id: string, opts: { actor: string }): Promise<void>; // "send now"
  cancelHold(id: string, opts: { actor: string }): Promise<void>;
  approveHold(id: string, opts: { actor: string }): Promise<void>;
}

export interface OpsDeps {
  routes?: Routes;
  learner?: SpamLearner;
}

export function createQuarantineOps(runtime: Runtime, deps: OpsDeps = {}): QuarantineOps {
  const routes = deps.routes ?? routesFor(runtime);
  const log = runtime.log;

  const learner = deps.learner ?? classifierLearner(runtime);
  const learn = async (id: string, label: "spam" | "ham", actor: string, recipients: string[]) => {
    const raw = await storeOf(runtime).quarantineMessage(id);
    if (!raw || !recipients.length) return;
    // Learning is advice: a failure is logged, never turned into a failed release.
    const outcome = await learner
      .learn(raw, label, { actor, recipient: recipients[0]! })
      .catch((err: Error) => `error: ${err.message}`);
    log.info({ id, label, actor, outcome }, "spam feedback");
  };

  const heldOrThrow = async (id: string) => {
    const h = await storeOf(runtime).getHold(id);
    if (!h) throw new HoldError(`no hold entry ${id}`);
    if (h.state !== "held") throw new HoldError(`hold entry ${id} is already ${h.state}`);
    return h;
  };

  return {
    async release(id, recipients, opts) {
      return releaseQuarantine(
        runtime,
        routes,
        id,
        recipients,
        opts.actor,
        newKey("release"),
        async (released) => {
          if (opts.learnAsHam) await learn(id, "ham", opts.actor, released);
        },
      );
    },

    async remove(id, recipients, opts) {
      const store = storeOf(runtime);
      const q = await store.getQuarantine(id);
      if (!q) throw new ReleaseError(`no quarantine entry ${id}`);
      const want = recipients === "all" ? null : new Set(recipients.map((r) => r.toLowerCase()));
      for (const r of q.recipients) {
        if (want && !want.has(r.address)) continue;
        if (await store.setQuarantineState(id, r.address, "quarantined", "deleted"))
          log.info({ id, rcpt: r.address, actor: opts.actor }, "quarantine deleted");
      }
    },

    async reportSpam(id, opts) {
      const q = await storeOf(runtime).getQuarantine(id);
      if (!q) throw new ReleaseError(`no quarantine entry ${id}`);
      await learn(
        id,
        "spam",
        opts.actor,
        q.recipients.map((r) => r.address),
      );
    },

    async releaseHold(id, opts) {
      const h = await heldOrThrow(id);
      if (h.approver && !h.approvedBy)
        throw new HoldError(`hold entry ${id} waits for approval by ${h.approver}`);
      if (!(await releaseHoldNow(runtime, routes, id, opts.actor)))
        throw new HoldError(
          `hold entry ${id} was not delivered (see the log; it stays queued or quarantined)`,
        );
      log.info({ id, actor: opts.actor }, "hold sent now");
    },

    async cancelHold(id, opts) {
      await heldOrThrow(id);
      // A release in flight owns the entry: cancelling now could not stop what is being sent.
      if ((await storeOf(runtime).openReleases()).some((c) => c.kind === "hold" && c.itemId === id))
        throw new HoldError(`hold entry ${id} is being released`);
      if (!(await storeOf(runtime).setHoldState(id, "held", "cancelled")))
        throw new HoldError(`hold entry ${id} is no longer held`);
      log.info({ id, actor: opts.actor }, "hold cancelled");
    },

    async approveHold(id, opts) {
      const h = await heldOrThrow(id);
      const tenant = runtime.config.tenants.find((t) => t.id === h.tenant);
      const approvers = (h.approver ?? "").split(",").filter(Boolean);
      const allowed = [...approvers, ...(tenant?.hold?.approval?.approvers ?? [])];
      if (!allowed.includes(opts.actor.toLowerCase()))
        throw new HoldError(`${opts.actor} may not approve hold entry ${id}`);
      await storeOf(runtime).updateHold(id, { approvedBy: opts.actor.toLowerCase() });
      log.info({ id, actor: opts.actor }, "hold approved");
      if (!(await releaseHoldNow(runtime, routes, id, opts.actor)))
        throw new HoldError(`hold entry ${id} was approved but not delivered (it stays queued)`);
    },
  };
}

async function releaseQuarantine(
  runtime: Runtime,
  routes: Routes,
  id: string,
  recipients: string[] | "all",
  actor: string,
  key: string,
  after: (released: string[]) => Promise<void>,
): Promise<{ released: string[]; failed: { address: string; reason: string }[] }> {
  const store = storeOf(runtime);
  if (recipients !== "all" && recipients.length === 0)
    throw new ReleaseError(`release of ${id}: no recipients given (name them, or release all)`);
  const q = await store.getQuarantine(id);
  if (!q) throw new ReleaseError(`no quarantine entry ${id}`);
  const claim = await claimStep(runtime, { key, kind: "quarantine", itemId: id, recipients, actor });
  const asked =
    recipients === "all"
      ? q.recipients.filter((r) => r.state === "quarantined").map((r) => r.address)
      : recipients.map((r) => r.toLowerCase());
  const notClaimed = asked
    .filter((a) => !claim.recipients.includes(a))
    .map((address) => ({
      address,
      reason: `not quarantined (${q.recipients.find((r) => r.address === address)?.state ?? "not a recipient"})`,
    }));
  if (claim.state === "done" && claim.accepted.length === 0 && claim.recipients.length === 0)
    return { released: [], failed: notClaimed };
  const done = await runClaim(runtime, routes, claim);
  runtime.log.info({ id, actor, key, released: done.accepted, failed: done.failed }, "quarantine release");
  if (done.accepted.length) await after(done.accepted);
  return { released: done.accepted, failed: [...done.failed, ...notClaimed] };
}

/**
 * A digest or hold-notice link, redeemed without a login: release (single use: the link's
 * nonce is the release's idempotency key, so a reused link releases nothing more), view
 * (returns the entry), send now / cancel (single use). null: invalid, expired or tampered.
 */
export async function redeemLink(
  runtime: Runtime,
  token: string,
  deps: OpsDeps & { now?: Date } = {},
): Promise<
  | {
      kind: "release";
      status: "released" | "used" | "failed" | "refused";
      quarantineId: string;
      recipient: string;
      reason?: string;
    }
  | { kind: "view"; quarantineId: string; recipient: string }
  | { kind: "send" | "cancel"; status: "done" | "used"; holdId: string }
  | null
> {
  const c = linkKeys(runtime.config)?.verify(token, deps.now) ?? null;
  if (!c) return null;
  const store = storeOf(runtime);
  if (c.kind === "view" || c.kind === "release") {
    // A link acts for one recipient of one tenant's entry, and only within that entry.
    const item = await store.getQuarantine(c.id);
    if (!item || item.tenant !== c.tenant || !item.recipients.some((r) => r.address === c.recipient))
      return null;
    if (c.kind === "view") return { kind: "view", quarantineId: c.id, recipient: c.recipient };
    const may = mayRelease({ role: "user", address: c.recipient }, item, [c.recipient]);
    if (!may.ok)
      return {
        kind: "release",
        status: "refused",
        quarantineId: c.id,
        recipient: c.recipient,
        reason: may.reason,
      };
    const key = `link:${c.nonce}`;
    const before = await store.getRelease(key);
    if (before?.state === "done")
      return { kind: "release", status: "used", quarantineId: c.id, recipient: c.recipient };
    const res = await releaseQuarantine(
      runtime,
      deps.routes ?? routesFor(runtime),
      c.id,
      [c.recipient],
      `link:${c.recipient}`,
      key,
      async () => undefined,
    );
    const gone = res.failed.some((f) => f.address === c.recipient && f.reason.startsWith("not quarantined"));
    const status = res.released.includes(c.recipient) ? "released" : gone ? "used" : "failed";
    return { kind: "release", status, quarantineId: c.id, recipient: c.recipient };
  }
  if (!(await store.consumeToken(`link:${c.nonce}`, c.expiresAt)))
    return { kind: c.kind, status: "used", holdId: c.id };
  const hold = await store.getHold(c.id);
  if (!hold || hold.tenant !== c.tenant) return null;
  if ((hold.envelope.mailFrom?.address ?? "").toLowerCase() !== c.recipient) return null;
  const ops = createQuarantineOps(runtime, deps);
  if (c.kind === "send") await ops.releaseHold(c.id, { actor: `link:${c.recipient}` });
  else await ops.cancelHold(c.id, { actor: `link:${c.recipient}` });
  return { kind: c.kind, status: "done", holdId: c.id };
}
