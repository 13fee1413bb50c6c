// Sender authentication: the filters this folder gives the registry, and its public API.
// Verification (SPF, DKIM, ARC, DMARC, Sender ID) in `auth`, DKIM signing in `dkim_sign`.
import type { Filter } from "../../pipeline/types.ts";
import { createAuthFilter } from "./auth-filter.ts";
import { createSignFilter } from "./sign.ts";

export function authFilters(): Filter[] {
  return [createAuthFilter(), createSignFilter()];
}

export { createAuthFilter, type AuthFilterDeps } from "./auth-filter.ts";
export { createSignFilter, signMessage, type SignRequest, DkimSignError } from "./sign.ts";
export { generateDkimKey, txtStrings, loadDkimKey, type DkimKeyPair, type DkimKeyType } from "./keygen.ts";
export { DnsResolver, sharedResolver, DnsError, type DnsOptions, type MailauthResolver } from "./dns.ts";
export { verifyMessage, type AuthOutcome, type VerifyInput } from "./verify.ts";
export { AUTH_SYMBOLS } from "./outcome.ts";
