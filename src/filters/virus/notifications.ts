// Which virus notifications to send once the verdict is known, rendered and ready for a
// NotificationSender. The front end calls notificationsFor() after the verdict (the wiring is
// elsewhere). Never backscatter: the sender is told only when local (authenticated, or
// submitted from the tenant's own domain through a non-inbound ingress).
import type { Envelope } from "../../message/envelope.ts";
import { domainOf } from "../../message/envelope.ts";
import type { ActionType } from "../../pipeline/types.ts";
import type { SymbolHit } from "../../message/types.ts";
import type { RecipientPolicy } from "../../policy/types.ts";
import { renderNotification } from "../../notify/render.ts";
import { noticeFrom, type NoticeTenant } from "../../notify/from.ts";
import type { NotificationSender } from "../../notify/sender.ts";
import type { NotifyKind } from "../../notify/templates.ts";
import type { VirusOptions } from "./options.ts";

export interface VirusVerdictInfo {
  envelope: Envelope;
  /** From the message's header: Subject and From as decoded text, Date as given. */
  message: { subject: string; from: string; date: string };
  recipients: readonly {
    address: string;
    policy: RecipientPolicy;
    action: ActionType;
    symbols: readonly SymbolHit[];
    quarantineId?: string | null;
  }[];
  now?: Date;
  /** Outbound mail: the sender's tenant (an outside recipient has none; notices are the sender's). */
  senderTenant?: (NoticeTenant & { language: "en" | "ja" }) | null;
}

export interface OutgoingNotification {
  kind: NotifyKind;
  /** Envelope sender: always the null sender. */
  envelopeFrom: "";
  to: string;
  message: Buffer;
}

const FINDINGS = /^(CLAMAV_VIRUS|ATTACHMENT_|ARCHIVE_(EXECUTABLE|ENCRYPTED|TOO_DEEP|BOMB))/;

/** Whether any of these symbols is a virus or attachment finding that can be notified. */
export function hasFindings(symbols: readonly SymbolHit[]): boolean {
  return symbols.some((s) => FINDINGS.test(s.name));
}

export function senderIsLocal(envelope: Envelope, policy: RecipientPolicy): boolean {
  if (envelope.auth) return true;
  const from = envelope.mailFrom?.address ?? "";
  if (!from || envelope.ingress === "inbound") return false;
  return (policy.tenant?.domains ?? []).includes(domainOf(from));
}

export async function notificationsFor(info: VirusVerdictInfo): Promise<OutgoingNotification[]> {
  const out: OutgoingNotification[] = [];
  const sent = new Set<string>();
  for (const r of info.recipients) {
    const o = r.policy.filters.virus?.options as unknown as VirusOptions | undefined;
    if (!o?.compiled) continue;
    const found = r.symbols.filter((s) => FINDINGS.test(s.name));
    if (found.length === 0 || (r.action !== "reject" && r.action !== "quarantine")) continue;
    const virus = found
      .map((s) => (s.name === "CLAMAV_VIRUS" ? s.detail : `${s.name} ${s.detail ?? ""}`.trim()))
      .join("; ");
    const tenant = r.policy.tenant ?? info.senderTenant ?? null;
    const postmaster = noticeFrom(tenant, {
      policy: o.notify.from,
      fallbackDomain: domainOf(info.envelope.auth ?? r.address) || "localhost",
    });
    const sender = info.envelope.mailFrom?.address ?? "";
    const vars = {
      virus,
      subject: info.message.subject,
      sender: sender || info.message.from,
      recipient: r.address,
      date: info.message.date,
      quarantine_id: r.quarantineId ?? "",
      tenant: tenant?.id ?? "",
      action: r.action,
    };
    const lang = r.policy.language;
    const add = async (kind: NotifyKind, to: string, language: "en" | "ja") => {
      const key = `${kind}\0${to.toLowerCase()}`;
      if (sent.has(key)) return;
      sent.add(key);
      const t = o.compiled.templates[kind][language];
      const message = await renderNotification({ from: postmaster, to, ...t, vars, date: info.now });
      out.push({ kind, envelopeFrom: "", to, message });
    };
    // A rejected message was refused in the SMTP dialog: its sender already knows, the
    // recipient has nothing waiting. Quarantine is silent to both unless told.
    if (r.action === "quarantine" && o.notify.recipient) await add("recipient", r.address, lang);
    if (r.action === "quarantine" && o.notify.sender && sender && senderIsLocal(info.envelope, r.policy)) {
      await add("sender", sender, tenant?.language ?? lang);
    }
    if (o.notify.admin) await add("admin", o.notify.admin, tenant?.language ?? "en");
  }
  return out;
}

/** Sends each notification; returns the failures (a notification never changes the verdict). */
export async function sendNotifications(
  list: readonly OutgoingNotification[],
  sender: NotificationSender,
): Promise<{ to: string; error: Error }[]> {
  const failed: { to: string; error: Error }[] = [];
  for (const n of list) {
    await sender
      .send(n.envelopeFrom, n.to, n.message)
      .catch((error: Error) => failed.push({ to: n.to, error }));
  }
  return failed;
}
