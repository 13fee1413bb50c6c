// Who may release what: the one rule the console, the CLI and signed digest links share.
// A copy whose own filter results found a virus or a blocked attachment is released only by
// an administrator of its tenant or an operator — never by the recipient, in the console or
// through a link (digests offer no release link for it). Scoping (which entries a caller may
// see at all) is the caller's; this decides the release itself.
import { hasFindings } from "../filters/virus/notifications.ts";
import type { QuarantineItem } from "../store/types.ts";

export type Releaser =
  | { role: "operator" }
  | { role: "tenant_admin"; tenant: string | null }
  /** The recipient, logged in or through a signed link. */
  | { role: "user"; address: string };

export type ReleaseDecision = { ok: true } | { ok: false; reason: string };

/** True when only an administrator may release this recipient's copy. */
export function needsAdmin(item: QuarantineItem, recipient: string): boolean {
  const r = item.recipients.find((x) => x.address === recipient.toLowerCase());
  return hasFindings(r ? r.symbols : item.symbols);
}

export function mayRelease(
  who: Releaser,
  item: QuarantineItem,
  recipients: readonly string[],
): ReleaseDecision {
  if (who.role === "operator") return { ok: true };
  if (who.role === "tenant_admin")
    return who.tenant !== null && who.tenant === item.tenant
      ? { ok: true }
      : { ok: false, reason: "not an entry of your tenant" };
  if (recipients.some((r) => r.toLowerCase() !== who.address)) return { ok: false, reason: "not your copy" };
  if (recipients.some((r) => needsAdmin(item, r)))
    return {
      ok: false,
      reason: "a message with a virus or a blocked attachment can only be released by an administrator",
    };
  return { ok: true };
}
