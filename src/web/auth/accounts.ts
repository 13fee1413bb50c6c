// Console accounts (operators, tenant admins) with scrypt-hashed passwords: create or reset,
// disable, enable and delete, shared by `sluice web …` and /api/accounts. Every change but
// enable ends the account's sessions. Not for end users, who log in with directory credentials.
//
// A disabled account keeps its hash behind a "!" (as in /etc/shadow), so enabling restores the
// old password; a deleted one keeps its row as a tombstone (the audit log still names it) that
// can never log in and that `adduser` may overwrite.
import type { Config } from "../../config/schema.ts";
import { hashPassword } from "../../policy/password.ts";
import type { ConsoleAccount, ConsoleRole, Store } from "../../store/types.ts";
import { revokeSessions } from "./revoke.ts";

export class AccountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AccountError";
  }
}

export const MIN_PASSWORD_LENGTH = 10;
const DELETED = "!deleted";

export const isDeleted = (a: ConsoleAccount): boolean => a.passwordHash === DELETED;
export const isDisabled = (a: ConsoleAccount): boolean => a.passwordHash.startsWith("!");
/** May this account log in and keep its sessions? */
export const isUsable = (a: ConsoleAccount): boolean => !isDisabled(a);

/** The accounts that exist (tombstones of deleted ones left out). */
export async function listAccounts(store: Store): Promise<ConsoleAccount[]> {
  return (await store.listAccounts()).filter((a) => !isDeleted(a));
}

async function existing(store: Store, login: string): Promise<ConsoleAccount> {
  const a = await store.getAccount(login.toLowerCase());
  if (!a || isDeleted(a)) throw new AccountError(`no console account ${login}`);
  return a;
}

export async function createAccount(
  store: Store,
  config: Config,
  input: { login: string; role: ConsoleRole; tenant?: string | null; password: string },
): Promise<ConsoleAccount> {
  // Logins are case-insensitive (the login form lower-cases what it is given).
  const login = input.login.trim().toLowerCase();
  if (!/^[a-z0-9._@-]{2,64}$/.test(login)) {
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
    login,
    role: input.role,
    tenant,
    passwordHash: await hashPassword(input.password),
    createdAt: new Date(),
  };
  // A reset (new password, perhaps a new role or tenant) ends the sessions opened before it.
  if (await store.getAccount(login)) await revokeSessions(store, login);
  await store.putAccount(account);
  return account;
}

/** Disable (sessions end, logins refused) or enable again with the password it had. */
export async function setDisabled(store: Store, login: string, disabled: boolean): Promise<ConsoleAccount> {
  const a = await existing(store, login);
  if (isDisabled(a) === disabled) return a;
  const next = { ...a, passwordHash: disabled ? `!${a.passwordHash}` : a.passwordHash.slice(1) };
  await store.putAccount(next);
  if (disabled) await revokeSessions(store, a.login);
  return next;
}

export async function deleteAccount(store: Store, login: string): Promise<ConsoleAccount> {
  const a = await existing(store, login);
  await store.putAccount({ ...a, passwordHash: DELETED });
  await revokeSessions(store, a.login);
  return a;
}

/** Refuse a change that would leave no operator able to log in. */
export async function assertOtherOperator(store: Store, login: string): Promise<void> {
  const others = (await listAccounts(store)).filter(
    (a) => a.role === "operator" && isUsable(a) && a.login !== login.toLowerCase(),
  );
  if (!others.length) throw new AccountError(`${login} is the last operator who can log in`);
}
