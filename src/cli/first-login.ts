// First login: a node whose store has no console operator yet either creates one (quick start:
// login "admin", a random password printed once in the log, stored only as its scrypt hash)
// or, with a configuration file, logs the exact command that creates one. Never resets anything.
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { Config } from "../config/schema.ts";
import type { Store } from "../store/types.ts";
import { createAccount, listAccounts } from "../web/auth/accounts.ts";

export const QUICKSTART_LOGIN = "admin";

export interface FirstLogin {
  /** Login created now (quick start), or null. */
  created: string | null;
  /** The command that creates the first operator (configured nodes without one), or null. */
  command: string | null;
}

export async function ensureOperator(
  store: Store | null,
  config: Config,
  log: Logger,
  opts: { configPath?: string },
): Promise<FirstLogin> {
  const none = { created: null, command: null };
  if (!store) return none;
  if ((await listAccounts(store)).some((a) => a.role === "operator")) return none;
  const url = consoleUrl(config.web.listen, !!config.web.tls);
  if (opts.configPath) {
    const command = `sluice web adduser ${QUICKSTART_LOGIN} --role operator --config ${opts.configPath}`;
    log.warn(
      { command, url },
      "no console operator account yet: create one with this command (password from SLUICE_PASSWORD or standard input)",
    );
    return { created: null, command };
  }
  // 18 random bytes: 24 URL-safe characters, well above the 10-character minimum.
  const password = randomBytes(18).toString("base64url");
  const a = await createAccount(store, config, { login: QUICKSTART_LOGIN, role: "operator", password });
  await store.appendAudit({
    at: new Date(),
    actor: "quickstart",
    action: "account.create",
    target: a.login,
    tenant: null,
    before: null,
    after: { role: a.role, tenant: null },
  });
  log.warn(
    { login: a.login, password, url },
    "quick start: console operator account created; this password is shown once (stored hashed), " +
      "reset it with: npx sluice web adduser admin",
  );
  return { created: a.login, command: null };
}

function consoleUrl(listen: string, tls: boolean): string {
  const i = listen.lastIndexOf(":");
  const host = listen.slice(0, i);
  const local = host === "0.0.0.0" || host === "[::]" || host === "::" ? "127.0.0.1" : host;
  return `${tls ? "https" : "http"}://${local}:${listen.slice(i + 1)}/`;
}
