// RFC 6068 mailto: URIs as RFC 5436 (Sieve enotify's mailto method) uses them: recipients, header
// fields and body, with the checks Pigeonhole makes at compile time. Not sending: the caller does that.

import { parseMailbox } from "./address.ts";

export interface MailtoUri {
  recipients: string[];
  headers: { name: string; value: string }[];
  body: string | null;
  /** Things that are legal but ignored (reserved header fields …). */
  warnings: string[];
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;
// RFC 5436 2.4: fields the notifying side sets itself; a URI cannot set them.
const RESERVED = new Set([
  "auto-submitted",
  "content-transfer-encoding",
  "content-type",
  "date",
  "delivered-to",
  "from",
  "message-id",
  "mime-version",
  "received",
  "return-path",
  "sender",
]);

/** The scheme of a notification method URI ("mailto"), or null when there is none. */
export function methodScheme(uri: string): string | null {
  return SCHEME.exec(uri)?.[1]?.toLowerCase() ?? null;
}

function percentDecode(s: string): string | null {
  if (/%(?![0-9A-Fa-f]{2})/.test(s)) return null;
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/** Parses a mailto: URI; returns why it is not usable instead of throwing. */
export function parseMailto(uri: string): MailtoUri | { error: string } {
  if (methodScheme(uri) !== "mailto") return { error: `not a mailto URI "${uri}"` };
  const rest = uri.slice("mailto:".length);
  const q = rest.indexOf("?");
  const toPart = q < 0 ? rest : rest.slice(0, q);
  const out: MailtoUri = { recipients: [], headers: [], body: null, warnings: [] };
  const addRecipients = (raw: string, where: string): string | null => {
    if (raw === "") return null;
    // Pigeonhole refuses a bare "," in the to part; each recipient is its own percent-encoded mailbox.
    if (where === "to" && raw.includes(",")) return `invalid character "," in the "to" part`;
    for (const piece of where === "to" ? [raw] : raw.split(",")) {
      const decoded = percentDecode(piece);
      if (decoded === null) return "invalid % encoding";
      const m = parseMailbox(decoded);
      if ("error" in m) return `invalid recipient "${decoded}": ${m.error}`;
      out.recipients.push(m.address);
    }
    return null;
  };
  const toProblem = addRecipients(toPart, "to");
  if (toProblem) return { error: toProblem };
  if (q >= 0) {
    for (const field of rest.slice(q + 1).split("&")) {
      if (field === "") continue;
      const eq = field.indexOf("=");
      const name = percentDecode(eq < 0 ? field : field.slice(0, eq));
      const value = percentDecode(eq < 0 ? "" : field.slice(eq + 1));
      if (name === null || value === null) return { error: "invalid % encoding" };
      const lower = name.toLowerCase();
      if (!FIELD_NAME.test(name)) return { error: `invalid header field name "${name}"` };
      if (lower === "body") {
        out.body = value;
        continue;
      }
      if (/[\r\n\0]/.test(value)) return { error: `invalid header field body for "${name}"` };
      if (lower === "to" || lower === "cc" || lower === "bcc") {
        const problem = addRecipients(value, lower);
        if (problem) return { error: problem };
        continue;
      }
      if (RESERVED.has(lower)) {
        out.warnings.push(`ignored reserved header field "${name}"`);
        continue;
      }
      out.headers.push({ name, value });
    }
  }
  if (out.recipients.length === 0) out.warnings.push("the URI names no recipients");
  return out;
}
