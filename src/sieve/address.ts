// Extracts mailboxes from address header values (RFC 5322 address-list) and the address parts Sieve
// compares (RFC 5228 2.7.4, RFC 5233 subaddress). Not a full RFC 5322 parser: obsolete routes are ignored.

import type { AddressPart } from "./spec.ts";

/**
 * Header fields whose bodies are address lists. RFC 5228 5.1: the address test MUST be restricted to
 * such fields and MUST include at least From, To, Cc, Bcc, Sender, Resent-From and Resent-To.
 */
export const ADDRESS_HEADERS: ReadonlySet<string> = new Set([
  "from",
  "to",
  "cc",
  "bcc",
  "sender",
  "reply-to",
  "resent-from",
  "resent-to",
  "resent-cc",
  "resent-bcc",
  "resent-sender",
  "resent-reply-to",
  "delivered-to",
  "envelope-to",
  "x-original-to",
  "return-receipt-to",
  "disposition-notification-to",
  "errors-to",
  "mail-followup-to",
  "mail-reply-to",
  "original-recipient",
]);

/** Separator between user and detail (RFC 5233 leaves it to the implementation; "+" is usual). */
export const SUBADDRESS_SEPARATOR = "+";

/** Splits on top-level commas, ignoring those inside quotes, comments and angle brackets. */
function splitTopLevel(value: string, sep: string): string[] {
  const out: string[] = [];
  let depthParen = 0;
  let inQuote = false;
  let inAngle = false;
  let cur = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (inQuote) {
      if (c === "\\") {
        cur += c + (value[i + 1] ?? "");
        i++;
        continue;
      }
      if (c === '"') inQuote = false;
    } else if (depthParen > 0) {
      if (c === "\\") {
        i++;
        continue;
      }
      if (c === "(") depthParen++;
      if (c === ")") depthParen--;
      continue;
    } else if (c === '"') inQuote = true;
    else if (c === "(") {
      depthParen = 1;
      continue;
    } else if (c === "<") inAngle = true;
    else if (c === ">") inAngle = false;
    else if (c === sep && !inAngle) {
      out.push(cur);
      cur = "";
      continue;
    }
    cur += c;
  }
  out.push(cur);
  return out;
}

function unquoteLocal(addr: string): string {
  const at = addr.lastIndexOf("@");
  const local = at < 0 ? addr : addr.slice(0, at);
  if (local.startsWith('"') && local.endsWith('"') && local.length >= 2) {
    return local.slice(1, -1).replace(/\\(.)/g, "$1") + (at < 0 ? "" : addr.slice(at));
  }
  return addr;
}

/** Mailbox addr-specs in an address-list header value; group names and display names are dropped. */
export function parseAddressList(value: string): string[] {
  const result: string[] = [];
  for (let item of splitTopLevel(value, ",")) {
    // "Group: a@b, c@d;" — drop the display name before ":" when it is outside any brackets.
    const colon = item.indexOf(":");
    const angle = item.indexOf("<");
    const quote = item.indexOf('"');
    if (colon >= 0 && (angle < 0 || colon < angle) && (quote < 0 || colon < quote))
      item = item.slice(colon + 1);
    item = item.replace(/;\s*$/, "");
    const open = item.lastIndexOf("<");
    let addr: string;
    if (open >= 0) {
      const close = item.indexOf(">", open);
      addr = item.slice(open + 1, close < 0 ? undefined : close);
      // Obsolete source route "<@a,@b:user@host>".
      const routeEnd = addr.lastIndexOf(":");
      if (addr.startsWith("@") && routeEnd >= 0) addr = addr.slice(routeEnd + 1);
    } else {
      addr = item;
    }
    addr = addr.trim();
    if (addr) result.push(unquoteLocal(addr));
  }
  return result;
}

/** The part of one address that a test compares; null when that part does not exist (no detail). */
export function addressPart(address: string, part: AddressPart): string | null {
  const at = address.lastIndexOf("@");
  const local = at < 0 ? address : address.slice(0, at);
  const domain = at < 0 ? "" : address.slice(at + 1);
  switch (part) {
    case "all":
      return address;
    case "localpart":
      return local;
    case "domain":
      return domain;
    case "user": {
      const sep = local.indexOf(SUBADDRESS_SEPARATOR);
      return sep < 0 ? local : local.slice(0, sep);
    }
    case "detail": {
      // RFC 5233 4: no separator means no detail, so the test fails for :detail of such an address.
      const sep = local.indexOf(SUBADDRESS_SEPARATOR);
      return sep < 0 ? null : local.slice(sep + 1);
    }
  }
}

// RFC 5322 addr-spec with dot-atom or quoted local part and a host name or address literal.
const ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const ADDR_SPEC = new RegExp(
  `^(?:${ATOM}(?:\\.${ATOM})*|"(?:[^"\\\\\\r\\n]|\\\\.)*")@` +
    `(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\\[[^\\]\\\\\\s]*\\])$`,
);

/** Removes RFC 5322 comments "( ... )" outside quoted strings; null when they do not balance. */
function stripComments(s: string): string | null {
  let out = "";
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === "\\" && (quoted || depth > 0)) {
      if (depth === 0) out += c + (s[i + 1] ?? "");
      i++;
    } else if (quoted) {
      out += c;
      if (c === '"') quoted = false;
    } else if (c === "(") depth++;
    else if (c === ")") {
      if (--depth < 0) return null;
    } else if (depth === 0) {
      if (c === '"') quoted = true;
      out += c;
    }
  }
  return depth === 0 && !quoted ? out : null;
}

/**
 * One RFC 5322 mailbox: a bare addr-spec or "Display Name <addr-spec>", with comments and surrounding
 * white space allowed (as Pigeonhole accepts for redirect and :from). Returns the addr-spec, or why not.
 */
export function parseMailbox(input: string): { address: string } | { error: string } {
  const s = stripComments(input);
  if (s === null) return { error: "unbalanced comment or quote" };
  let spec = s.trim();
  const open = spec.indexOf("<");
  if (open >= 0) {
    const close = spec.indexOf(">", open);
    if (close < 0 || spec.slice(close + 1).trim() !== "") return { error: "malformed angle address" };
    const phrase = spec.slice(0, open).replace(/"(?:[^"\\]|\\.)*"/g, "");
    if (/[,;:@<>]/.test(phrase)) return { error: "not a single address" };
    spec = spec.slice(open + 1, close).trim();
  }
  if (/[,;]/.test(spec.replace(/"(?:[^"\\]|\\.)*"/g, ""))) return { error: "not a single address" };
  if (!spec.includes("@")) return { error: "no domain (expecting '@')" };
  if (!ADDR_SPEC.test(spec)) return { error: "invalid local part or domain" };
  return { address: spec };
}
