// Sends what Sieve's enotify (RFC 5435, mailto method RFC 5436) asks for through the tenant's
// notification path: the tenant's From (the script's :from becomes Reply-To), null envelope sender,
// Auto-Submitted: auto-notified, only to allowed domains, within a per-tenant hourly budget (per node),
// and never in answer to a message that is itself automatic (RFC 5436 2.7, RFC 3834).
import MailComposer from "nodemailer/lib/mail-composer";
import { randomBytes } from "node:crypto";
import { RateLimiterMemory } from "rate-limiter-flexible";
import { headerSafe } from "../../notify/index.ts";
import type { Notification } from "../../message/types.ts";
import type { EnotifyAction } from "../../sieve/index.ts";

export interface EnotifySettings {
  /** Header From of notifications. */
  from: string;
  /** Allowed target check (the tenant's enotify domains). */
  allowed: (address: string) => boolean;
  /** Notifications per tenant per hour on this node. */
  maxPerHour: number;
  /** Rate-limit key: the tenant id. */
  tenant: string;
}

export interface EnotifyOutcome {
  notifications: Notification[];
  /** Why some or all of it was not sent (for a symbol and the log). */
  refused: string[];
}

const limiters = new Map<number, RateLimiterMemory>();

function limiter(perHour: number): RateLimiterMemory {
  let l = limiters.get(perHour);
  if (!l) {
    l = new RateLimiterMemory({ points: perHour, duration: 3600 });
    limiters.set(perHour, l);
  }
  return l;
}

/** RFC 3834 5: a message whose Auto-Submitted is anything but "no" gets no automatic answer. */
export function isAutomatic(headers: { name: string; value: string }[]): boolean {
  return headers.some(
    (h) =>
      (h.name.toLowerCase() === "auto-submitted" && h.value.trim().toLowerCase().split(";")[0] !== "no") ||
      (h.name.toLowerCase() === "precedence" && /^(bulk|list|junk)$/i.test(h.value.trim())),
  );
}

export async function renderEnotify(
  a: EnotifyAction,
  s: EnotifySettings,
  original: { subject: string; from: string; headers: { name: string; value: string }[] },
): Promise<EnotifyOutcome> {
  const refused = [...(a.refused ?? []).map((r) => `${r}: not an allowed notification domain`)];
  const recipients = a.recipients.filter((r) => {
    if (s.allowed(r)) return true;
    refused.push(`${r}: not an allowed notification domain`);
    return false;
  });
  if (recipients.length === 0) return { notifications: [], refused };
  if (isAutomatic(original.headers)) {
    return { notifications: [], refused: [...refused, "the message is itself automatic (Auto-Submitted)"] };
  }
  const field = (n: string) => a.headers.find((h) => h.name.toLowerCase() === n)?.value;
  const subject = headerSafe(field("subject") ?? a.message ?? `Notification: ${original.subject}`).slice(
    0,
    900,
  );
  const text = a.body ?? a.message ?? `From: ${original.from}\nSubject: ${original.subject}\n`;
  const extra: Record<string, string> = { "Auto-Submitted": "auto-notified" };
  if (a.importance === "1") extra.Importance = "high";
  if (a.importance === "3") extra.Importance = "low";
  for (const h of a.headers) {
    const n = h.name.toLowerCase();
    if (!["subject", "reply-to", "importance"].includes(n)) extra[h.name] = headerSafe(h.value);
  }
  const notifications: Notification[] = [];
  for (const to of recipients) {
    try {
      await limiter(s.maxPerHour).consume(s.tenant);
    } catch {
      refused.push(`${to}: notification rate limit (${s.maxPerHour} per hour) reached`);
      continue;
    }
    const composer = new MailComposer({
      from: s.from,
      to,
      replyTo: a.from ?? undefined,
      subject,
      text: text.replace(/\r\n?/g, "\n"),
      date: new Date(),
      messageId: `<${Date.now().toString(36)}.${randomBytes(8).toString("hex")}@${s.from.split("@")[1] ?? "localhost"}>`,
      textEncoding: "base64",
      headers: extra,
    });
    notifications.push({ to, message: await composer.compile().build() });
  }
  return { notifications, refused };
}
