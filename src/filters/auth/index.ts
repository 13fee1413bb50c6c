// Sender authentication: the filters this folder gives the registry, and its public API.
// Verification (SPF, DKIM, ARC, DMARC, Sender ID) in `auth`, DKIM signing in `dkim_sign`.
import type { Filter } from "../../pipeline/types.ts";
import { createAuthFilter } from "./auth-filter.ts";
import type { KeySource } from "./key-store.ts";
import { createSignFilter } from "./sign.ts";

export interface AuthFiltersDeps {
  /** DKIM/ARC keys kept in the store (a StoreKeySource over the node's secret key). */
  keys?: KeySource | (() => KeySource | null);
  /** The policy resolver's tenant of an address: who may sign with a tenant's stored key. */
  tenantOf?: (address: string) => string | null;
}

export function authFilters(deps: AuthFiltersDeps = {}): Filter[] {
  return [createAuthFilter({ keys: deps.keys }), createSignFilter(deps)];
}

export { createAuthFilter, type AuthFilterDeps } from "./auth-filter.ts";
export {
  createSignFilter,
  signMessage,
  mayUseKey,
  type SignRequest,
  type SignFilterDeps,
  DkimSignError,
} from "./sign.ts";
export { arcSeal, type ArcSet, type SealRequest } from "./arc-seal.ts";
export {
  StoreKeySource,
  createStoredKey,
  loadSecretKey,
  parseSecretKey,
  dkimKeyTable,
  openRecord,
  SECRET_ENV,
  type KeySource,
} from "./key-store.ts";
export {
  generateDkimKey,
  txtStrings,
  loadDkimKey,
  DkimKeyError,
  type DkimKeyPair,
  type DkimKeyType,
} from "./keygen.ts";
export { DnsResolver, sharedResolver, DnsError, type DnsOptions, type MailauthResolver } from "./dns.ts";
export { verifyMessage, type AuthOutcome, type VerifyInput } from "./verify.ts";
export { AUTH_SYMBOLS } from "./outcome.ts";
