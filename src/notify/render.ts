// Renders one notification to a complete RFC 5322 message: UTF-8 text/plain body, RFC 2047
// encoded Subject (nodemailer's mail-composer), Date, Message-ID, Auto-Submitted (RFC 3834).
// Not for sending (NotificationSender) and not for choosing who is notified (the filter does).
import MailComposer from "nodemailer/lib/mail-composer";
import { randomBytes } from "node:crypto";
import type { CompiledTemplate } from "./template.ts";

export interface RenderInput {
  /** Header From (e.g. the tenant's postmaster). */
  from: string;
  to: string;
  subject: CompiledTemplate;
  body: CompiledTemplate;
  vars: Readonly<Record<string, string>>;
  date?: Date;
  /** Domain of the Message-ID (defaults to the From domain). */
  messageIdDomain?: string;
}

/** Values come from the scanned message (subject, sender): no line breaks or controls in headers. */
export function headerSafe(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
}

export async function renderNotification(input: RenderInput): Promise<Buffer> {
  const headerVars = Object.fromEntries(Object.entries(input.vars).map(([k, v]) => [k, headerSafe(v)]));
  const subject = headerSafe(input.subject.render(headerVars)).slice(0, 900);
  const body = input.body
    .render(input.vars)
    .replace(/\r\n?/g, "\n")
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "");
  const domain = input.messageIdDomain ?? (input.from.split("@")[1] || "localhost");
  const composer = new MailComposer({
    from: input.from,
    to: input.to,
    subject,
    text: body,
    date: input.date ?? new Date(),
    messageId: `<${Date.now().toString(36)}.${randomBytes(8).toString("hex")}@${domain}>`,
    textEncoding: "base64",
    headers: { "Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All" },
  });
  return composer.compile().build();
}
