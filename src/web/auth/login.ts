// Checking a console login: console accounts (operators, tenant admins; scrypt hashes in the
// store) first, then the directory (end users: built-in store users or an LDAP bind).
// Returns who logged in or null; throttling and sessions are the caller's (api/auth.ts).
import type { Runtime } from "../../runtime.ts";
import { burnVerification, hashPassword, needsRehash, verifyPassword } from "../../policy/password.ts";
import type { Role } from "./principal.ts";

export interface LoginResult {
  subject: string;
  role: Role;
  tenant: string | null;
}

/**
 * The one form of a login name that throttling, account lookup and the directory all use:
 * " Op3" and "op3" are the same login everywhere.
 */
export function normalizeLogin(raw: string): string {
  return raw.normalize("NFC").trim().toLowerCase();
}

/** `login` must come from normalizeLogin. */
export async function checkLogin(
  runtime: Runtime,
  login: string,
  password: string,
): Promise<LoginResult | null> {
  const store = runtime.store;
  const account = store ? await store.getAccount(login) : null;
  if (account) {
    // A disabled account ("!" before its hash) fails here after the same work as any other.
    if (!(await verifyPassword(password, account.passwordHash))) return null;
    if (needsRehash(account.passwordHash)) {
      await store!.putAccount({ ...account, passwordHash: await hashPassword(password) });
    }
    return { subject: account.login, role: account.role, tenant: account.tenant };
  }
  if (!login.includes("@")) {
    await burnVerification(password);
    return null;
  }
  const user = await runtime.directory.authenticate(login, password);
  if (!user) return null;
  return { subject: user.address, role: "user", tenant: user.tenant };
}
