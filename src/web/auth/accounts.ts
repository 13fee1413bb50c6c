// Creating console accounts (operators, tenant admins) with scrypt-hashed passwords: shared
// by `sluice web adduser` (the bootstrap) and POST /api/accounts. Not for end users, who
// log in with their directory credentials.
import type { Config } from "../../config/schema.ts";
import { hashPassword } from "../../policy/password.ts";
import type { ConsoleAccount, ConsoleRole, Store } from "../../store/types.ts";

export class AccountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AccountError";
  }
}

export const MIN_PASSWORD_LENGTH = 10;

export async function createAccount(
  store: Store,
  config: Config,
  input: { login: string; role: ConsoleRole; tenant?: string | null; password: string },
): Promise<ConsoleAccount> {
  if (!/^[A-Za-z0-9._@-]{2,64}$/.test(input.login)) {
    throw new AccountError("a login is 2-64 letters, digits, '.', '_', '@' or '-'");
  }
  if (input.password.length < MIN_PASSWORD_LENGTH) {
    throw new AccountError(`a password has at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  const tenant = input.role === "tenant_admin" ? (input.tenant ?? null) : null;
  if (input.role === "tenant_admin" && !config.tenants.some((t) => t.id === tenant)) {
    throw new AccountError(`a tenant admin needs an existing tenant (got ${tenant ?? "none"})`);
  }
  const account: ConsoleAccount = {
    login: input.login,
    role: input.role,
    tenant,
    passwordHash: await hashPassword(input.password),
    createdAt: new Date(),
  };
  await store.putAccount(account);
  return account;
}
