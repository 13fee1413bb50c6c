// The hold queue's clock: on each tick, for every held entry in the store — send the sender's
// notice once (with signed "send now" / "cancel" links), put approval-mode tenants' entries
// under their approvers with the maximum wait, and release what is due (or cancel an approval
// that timed out). State lives in the store only, so a restarted node resumes on time, and
// release claims make a release happen once even with several nodes ticking.
import type { Runtime } from "../runtime.ts";
import type { HoldItem } from "../store/types.ts";
import { noticeFrom, renderNotification } from "../notify/index.ts";
import type { Routes } from "../delivery/nexthop/route.ts";
import { domainOf } from "../message/envelope.ts";
import { linkKeys } from "./links.ts";
import { claimStep, deliverCopy, newKey, runClaim, storeOf } from "./release.ts";
import { APPROVAL_DEFAULTS, compilePair, NOTICE_DEFAULTS, NOTICE_VARIABLES } from "./templates.ts";

export interface TickReport {
  noticed: string[];
  released: string[];
  cancelled: string[];
}

/** The entry's tenant; an entry stored without one belongs to its (authenticated) sender's. */
function tenantOf(runtime: Runtime, h: HoldItem) {
  return (
    runtime.config.tenants.find((t) => t.id === h.tenant) ??
    runtime.resolver.senderTenant(h.envelope) ??
    runtime.resolver.tenantFor(h.envelope.mailFrom?.address ?? "")
  );
}

/** Release one held entry now (claim → deliver → finish); false if someone else has it. */
export async function releaseHoldNow(
  runtime: Runtime,
  routes: Routes,
  id: string,
  actor: string,
): Promise<boolean> {
  const claim = await claimStep(runtime, {
    key: newKey("hold"),
    kind: "hold",
    itemId: id,
    recipients: "all",
    actor,
  });
  if (claim.state === "done") return false;
  const done = await runClaim(runtime, routes, claim);
  return done.accepted.length > 0;
}

export async function holdTick(runtime: Runtime, routes: Routes, now = new Date()): Promise<TickReport> {
  const store = storeOf(runtime);
  const report: TickReport = { noticed: [], released: [], cancelled: [] };
  for (let h of await store.listHolds({ state: "held", limit: 1000 })) {
    const tenant = tenantOf(runtime, h);
    const approval = tenant?.hold?.approval;
    if (approval && h.approver === null && h.noticeSentAt === null) {
      const releaseAt = new Date(h.createdAt.getTime() + approval.max_wait_minutes * 60_000);
      await store.updateHold(h.id, { approver: approval.approvers.join(","), releaseAt });
      h = { ...h, approver: approval.approvers.join(","), releaseAt };
    }
    if (h.noticeSentAt === null) {
      if (tenant?.hold?.notify_sender !== false)
        await sendNotice(runtime, routes, h).catch((err: Error) => {
          runtime.log.warn({ id: h.id, err: err.message }, "hold notice not sent");
        });
      await store.updateHold(h.id, { noticeSentAt: now });
      report.noticed.push(h.id);
    }
    if (h.releaseAt > now) continue;
    if (h.approver && !h.approvedBy && approval?.on_timeout !== "release") {
      if (await store.setHoldState(h.id, "held", "cancelled")) {
        runtime.log.info({ id: h.id, approver: h.approver }, "hold cancelled: approval not given in time");
        report.cancelled.push(h.id);
      }
      continue;
    }
    if (await releaseHoldNow(runtime, routes, h.id, "scheduler")) report.released.push(h.id);
  }
  return report;
}

async function sendNotice(runtime: Runtime, routes: Routes, h: HoldItem): Promise<void> {
  const sender = h.envelope.mailFrom?.address || h.envelope.auth;
  const tenant = tenantOf(runtime, h);
  const cfg = tenant?.hold;
  const keys = linkKeys(runtime.config);
  const link = (kind: "send" | "cancel", to: string) =>
    cfg?.link_base && keys
      ? `${cfg.link_base}${cfg.link_base.includes("?") ? "&" : "?"}t=${keys.sign(kind, h.id, to, h.tenant, h.releaseAt)}`
      : "(ask your administrator)";
  const vars = {
    sender: sender ?? "",
    recipients: h.envelope.recipients.map((r) => r.address).join(", "),
    subject: (await subjectOf(runtime, h.id)) ?? "",
    reason: h.reason,
    release_at: h.releaseAt.toISOString(),
    hold_id: h.id,
    approver: h.approver ?? "",
  };
  const send = async (to: string, pair: ReturnType<typeof compilePair>, extra: Record<string, string>) => {
    const raw = await runtime.signNotice(
      await renderNotification({
        from: noticeFrom(tenant, { own: cfg?.from, fallbackDomain: domainOf(sender ?? "") || "localhost" }),
        to,
        ...pair,
        vars: { ...vars, ...extra },
      }),
    );
    const res = await deliverCopy(runtime, routes, {
      id: h.id,
      envelope: null,
      from: "",
      recipients: [to],
      message: raw,
    });
    if (!res.accepted.length) throw new Error(res.failed.map((f) => f.reason).join("; "));
  };
  // The reader's own language, else their tenant's (the sender's tenant for an approver too).
  const langOf = async (a: string) =>
    (await runtime.directory.lookup(a).catch(() => null))?.language ??
    runtime.resolver.tenantFor(a)?.language ??
    tenant?.language ??
    "en";
  const where = `tenants.${tenant?.id ?? "-"}.hold`;
  if (sender && sender.includes("@")) {
    const lang = await langOf(sender);
    const pair = compilePair(
      NOTICE_DEFAULTS[lang],
      cfg?.notice_templates?.[lang],
      NOTICE_VARIABLES,
      `${where}.notice_templates.${lang}`,
    );
    await send(sender, pair, {
      send_now_url: h.approver ? "(needs approval)" : link("send", sender),
      cancel_url: link("cancel", sender),
    });
  }
  for (const approver of (h.approver ?? "").split(",").filter(Boolean)) {
    const lang = await langOf(approver);
    await send(
      approver,
      compilePair(APPROVAL_DEFAULTS[lang], undefined, NOTICE_VARIABLES, `${where}.approval.${lang}`),
      {},
    );
  }
}

async function subjectOf(runtime: Runtime, id: string): Promise<string | null> {
  const raw = await storeOf(runtime).holdMessage(id);
  if (!raw) return null;
  const head = raw
    .subarray(0, Math.max(0, raw.indexOf("\r\n\r\n")))
    .toString("utf8")
    .replace(/\r\n[ \t]+/g, " ");
  return /^subject:[ \t]*(.*)$/im.exec(head)?.[1]?.trim() ?? null;
}
