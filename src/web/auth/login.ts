// Checking a console login: console accounts (operators, tenant admins; scrypt hashes in the
// store) first, then the directory (end users: built-in store users or an LDAP bind).
// Returns who logged in or null; throttling and sessions are the caller's (api/auth.ts).
import type { Runtime } from "../../runtime.ts";
import { hashPassword, verifyPassword } from "../../policy/password.ts";
import type { Role } from "./principal.ts";

// Compared against when no account matches, so an unknown login costs the same scrypt work.
const DUMMY_HASH = hashPassword("unused dummy password");

export interface LoginResult {
  subject: string;
  role: Role;
  tenant: string | null;
}

export async function checkLogin(
  runtime: Runtime,
  login: string,
  password: string,
): Promise<LoginResult | null> {
  const store = runtime.store;
  const account = store ? await store.getAccount(login) : null;
  if (account) {
    if (!(await verifyPassword(password, account.passwordHash))) return null;
    return { subject: account.login, role: account.role, tenant: account.tenant };
  }
  if (!login.includes("@")) {
    await verifyPassword(password, await DUMMY_HASH);
    return null;
  }
  const user = await runtime.directory.authenticate(login, password);
  if (!user) return null;
  return { subject: user.address, role: "user", tenant: user.tenant };
}
