// Signed, expiring links for digests ("release" / "view" a quarantined copy) and hold notices
// ("send" now / "cancel"): HMAC-SHA256 over a small JSON payload, compared in constant time.
// Pure: single use is enforced by the caller through the store (redeem.ts), not here.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export type LinkKind = "release" | "view" | "send" | "cancel";

interface Payload {
  v: 1;
  k: LinkKind;
  id: string;
  r: string;
  /** Expiry, seconds since the epoch. */
  e: number;
  /** Nonce: the single-use key of the link. */
  n: string;
}

export interface LinkClaims {
  kind: LinkKind;
  id: string;
  recipient: string;
  expiresAt: Date;
  nonce: string;
}

function mac(secret: string, body: string): Buffer {
  return createHmac("sha256", secret).update(`sluice-link.${body}`).digest();
}

export function signLink(
  secret: string,
  kind: LinkKind,
  id: string,
  recipient: string,
  expiresAt: Date,
): string {
  const payload: Payload = {
    v: 1,
    k: kind,
    id,
    r: recipient.toLowerCase(),
    e: Math.floor(expiresAt.getTime() / 1000),
    n: randomBytes(12).toString("base64url"),
  };
  const body = Buffer.from(JSON.stringify(payload)).toString("base64url");
  return `${body}.${mac(secret, body).toString("base64url")}`;
}

/** The claims of a well-signed, unexpired token; null for anything else. */
export function verifyLink(secret: string, token: string, now = new Date()): LinkClaims | null {
  const dot = token.indexOf(".");
  if (dot <= 0 || token.length > 4096) return null;
  const body = token.slice(0, dot);
  const sig = Buffer.from(token.slice(dot + 1), "base64url");
  const want = mac(secret, body);
  if (sig.length !== want.length || !timingSafeEqual(sig, want)) return null;
  let p: Payload;
  try {
    p = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as Payload;
  } catch {
    return null;
  }
  if (p.v !== 1 || typeof p.id !== "string" || typeof p.r !== "string" || typeof p.n !== "string")
    return null;
  if (!["release", "view", "send", "cancel"].includes(p.k)) return null;
  if (typeof p.e !== "number" || p.e * 1000 <= now.getTime()) return null;
  return { kind: p.k, id: p.id, recipient: p.r, expiresAt: new Date(p.e * 1000), nonce: p.n };
}

export function verifyDigestLink(
  secret: string,
  token: string,
  now?: Date,
): { kind: "release" | "view"; quarantineId: string; recipient: string } | null {
  const c = verifyLink(secret, token, now);
  if (!c || (c.kind !== "release" && c.kind !== "view")) return null;
  return { kind: c.kind, quarantineId: c.id, recipient: c.recipient };
}

export function verifyHoldLink(
  secret: string,
  token: string,
  now?: Date,
): { kind: "send" | "cancel"; holdId: string; sender: string } | null {
  const c = verifyLink(secret, token, now);
  if (!c || (c.kind !== "send" && c.kind !== "cancel")) return null;
  return { kind: c.kind, holdId: c.id, sender: c.recipient };
}

/** The link secret: the node's local `node.link_secret`, else SLUICE_LINK_SECRET. */
export function linkSecret(node: { link_secret?: string }): string | null {
  return node.link_secret ?? process.env.SLUICE_LINK_SECRET ?? null;
}
