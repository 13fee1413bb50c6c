// Who a notice comes from: always the tenant's own sender on its own domain (so DMARC aligns
// and the tenant's DKIM key can sign it), never an outside recipient's domain or a node's host
// name. Not for rendering (render.ts) nor for sending (sender.ts).

/** What a notice needs to know of its tenant (a TenantConfig fits). */
export interface NoticeTenant {
  id: string;
  domains: readonly string[];
  language?: "en" | "ja";
  notices?: { from?: string; dkim?: boolean };
}

/**
 * The Header From of a tenant's notice, by precedence: the feature's own tenant setting
 * (`hold.from`, `quarantine.digest.from`), the tenant's `notices.from`, a policy-layer option
 * (Sieve or virus `from`, which may be global), else postmaster@ the tenant's first domain.
 * Without a tenant: the policy option, else postmaster@`fallbackDomain`.
 */
export function noticeFrom(
  tenant: NoticeTenant | null | undefined,
  opts: { own?: string | null; policy?: string | null; fallbackDomain: string },
): string {
  if (tenant) {
    return opts.own || tenant.notices?.from || opts.policy || `postmaster@${tenant.domains[0]}`;
  }
  return opts.policy || `postmaster@${opts.fallbackDomain}`;
}
