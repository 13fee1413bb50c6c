// Signed, expiring links for digests ("release" / "view" a quarantined copy) and hold notices
// ("send" now / "cancel"): HMAC-SHA256 over a small JSON payload, compared in constant time.
// Each tenant signs with its own key, derived from the node's link secret, the tenant id and
// the tenant's key generation (rotation), so a link names its tenant and works for that
// tenant's entries only. Pure: single use is enforced by the caller through the store.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export type LinkKind = "release" | "view" | "send" | "cancel";

interface Payload {
  v: 2;
  k: LinkKind;
  id: string;
  r: string;
  /** The tenant of the entry ("" for none) and the generation of its key. */
  t: string;
  g: number;
  /** Expiry, seconds since the epoch. */
  e: number;
  /** Nonce: the single-use key of the link. */
  n: string;
}

export interface LinkClaims {
  kind: LinkKind;
  id: string;
  recipient: string;
  tenant: string | null;
  expiresAt: Date;
  nonce: string;
}

function mac(key: Buffer, body: string): Buffer {
  return createHmac("sha256", key).update(`sluice-link.${body}`).digest();
}

/** Signs and verifies links with per-tenant keys; the previous generation still verifies. */
export class LinkKeys {
  private readonly secret: string;
  private readonly generationOf: (tenant: string | null) => number;

  constructor(secret: string, generationOf: (tenant: string | null) => number = () => 0) {
    this.secret = secret;
    this.generationOf = generationOf;
  }

  private key(tenant: string | null, generation: number): Buffer {
    return createHmac("sha256", this.secret)
      .update(`sluice-link-key.${tenant ?? ""}.${generation}`)
      .digest();
  }

  sign(kind: LinkKind, id: string, recipient: string, tenant: string | null, expiresAt: Date): string {
    const payload: Payload = {
      v: 2,
      k: kind,
      id,
      r: recipient.toLowerCase(),
      t: tenant ?? "",
      g: this.generationOf(tenant),
      e: Math.floor(expiresAt.getTime() / 1000),
      n: randomBytes(12).toString("base64url"),
    };
    const body = Buffer.from(JSON.stringify(payload)).toString("base64url");
    return `${body}.${mac(this.key(tenant, payload.g), body).toString("base64url")}`;
  }

  /** The claims of a well-signed, unexpired token of a current key; null for anything else. */
  verify(token: string, now = new Date()): LinkClaims | null {
    const dot = token.indexOf(".");
    if (dot <= 0 || token.length > 4096) return null;
    const body = token.slice(0, dot);
    let p: Payload;
    try {
      p = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as Payload;
    } catch {
      return null;
    }
    // The payload is read before its signature is checked only to pick the key to check it with.
    if (typeof p !== "object" || p === null || p.v !== 2 || typeof p.t !== "string") return null;
    if (!Number.isInteger(p.g)) return null;
    const tenant = p.t || null;
    const current = this.generationOf(tenant);
    if (p.g !== current && p.g !== current - 1) return null;
    const sig = Buffer.from(token.slice(dot + 1), "base64url");
    const want = mac(this.key(tenant, p.g), body);
    if (sig.length !== want.length || !timingSafeEqual(sig, want)) return null;
    if (typeof p.id !== "string" || typeof p.r !== "string" || typeof p.n !== "string") return null;
    if (!["release", "view", "send", "cancel"].includes(p.k)) return null;
    if (typeof p.e !== "number" || p.e * 1000 <= now.getTime()) return null;
    return { kind: p.k, id: p.id, recipient: p.r, tenant, expiresAt: new Date(p.e * 1000), nonce: p.n };
  }
}

export function verifyDigestLink(
  keys: LinkKeys,
  token: string,
  now?: Date,
): { kind: "release" | "view"; quarantineId: string; recipient: string; tenant: string | null } | null {
  const c = keys.verify(token, now);
  if (!c || (c.kind !== "release" && c.kind !== "view")) return null;
  return { kind: c.kind, quarantineId: c.id, recipient: c.recipient, tenant: c.tenant };
}

export function verifyHoldLink(
  keys: LinkKeys,
  token: string,
  now?: Date,
): { kind: "send" | "cancel"; holdId: string; sender: string; tenant: string | null } | null {
  const c = keys.verify(token, now);
  if (!c || (c.kind !== "send" && c.kind !== "cancel")) return null;
  return { kind: c.kind, holdId: c.id, sender: c.recipient, tenant: c.tenant };
}

/** The link secret: the node's local `node.link_secret`, else SLUICE_LINK_SECRET. */
export function linkSecret(node: { link_secret?: string }): string | null {
  return node.link_secret ?? process.env.SLUICE_LINK_SECRET ?? null;
}

/** This configuration's link keys (null when the node has no link secret). */
export function linkKeys(config: {
  node: { link_secret?: string };
  tenants: readonly { id: string; link_key_generation?: number }[];
}): LinkKeys | null {
  const secret = linkSecret(config.node);
  if (!secret) return null;
  return new LinkKeys(
    secret,
    (tenant) => config.tenants.find((t) => t.id === tenant)?.link_key_generation ?? 0,
  );
}
