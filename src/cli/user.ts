// `sluice user passwd [ADDRESS]`: a password for a directory user, read from SLUICE_PASSWORD or
// the first line of standard input (never the command line). Without an address, or for a user
// of the configuration file, it prints the scrypt hash for tenants[].users[].password_hash; for a
// user of the built-in store it sets the password there (ending the user's sessions, audited).
// LDAP users change their password in LDAP.
import type { Command } from "commander";
import pino from "pino";
import { Runtime } from "../runtime.ts";
import { hashPassword } from "../policy/password.ts";
import { readPassword } from "../web/cli.ts";
import { revokeSessions } from "../web/auth/revoke.ts";

class UserCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliUsageError";
  }
}

export async function userPasswd(address: string | undefined, o: { config?: string }): Promise<string> {
  const password = await readPassword();
  if (password.length < 8) throw new UserCommandError("a password has at least 8 characters");
  const hash = await hashPassword(password);
  if (!address) return `${hash}\n`;
  const a = address.toLowerCase();
  const runtime = await Runtime.create({ configPath: o.config, logger: pino({ level: "silent" }) });
  try {
    const inConfig = runtime.config.tenants.some((t) =>
      t.users.some((u) => u.address === a || u.aliases.includes(a)),
    );
    if (inConfig) {
      process.stderr.write(
        `${a} is defined in the configuration file: set its password_hash (tenants[].users[]) to the line below\n`,
      );
      return `${hash}\n`;
    }
    const stored = await runtime.store?.getUser(a);
    if (!stored) {
      throw new UserCommandError(
        (await runtime.directory.lookup(a))
          ? `${a} is an LDAP user: change the password in the directory`
          : `no user ${a} in the configuration file or the store`,
      );
    }
    await runtime.store!.putUser({ ...stored, passwordHash: hash });
    await revokeSessions(runtime.store!, stored.address);
    await runtime.store!.appendAudit({
      at: new Date(),
      actor: `cli:${process.env.USER ?? "?"}`,
      action: "user.update",
      target: stored.address,
      tenant: stored.tenant,
      before: { passwordChanged: false },
      after: { passwordChanged: true },
    });
    return `password of ${stored.address} set; its sessions ended\n`;
  } finally {
    await runtime.close();
  }
}

export function registerUserCommands(program: Command): void {
  const user = program.command("user").description("directory users");
  user
    .command("passwd")
    .description(
      "hash a password (SLUICE_PASSWORD or stdin) for tenants[].users[].password_hash, or set a built-in store user's",
    )
    .argument(
      "[address]",
      "the user (a store user's password is set; a configuration-file user's hash printed)",
    )
    .option("-c, --config <file>", "configuration file (default: embedded quick-start)")
    .action(async (address: string | undefined, o: { config?: string }) => {
      process.stdout.write(await userPasswd(address, o));
    });
}
