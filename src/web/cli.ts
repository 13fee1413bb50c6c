// `sluice web …`: console accounts in the node's store — adduser (create or reset: the first
// operator, tenant admins), deluser, disable, enable, logout (end every session of an account
// or end user). Passwords come from SLUICE_PASSWORD or the first line of standard input, never
// from the command line (it would show in ps and shell history). Every change is audited.
import { Option, type Command } from "commander";
import pino from "pino";
import { Runtime } from "../runtime.ts";
import { AccountError, createAccount, deleteAccount, setDisabled } from "./auth/accounts.ts";
import { revokeSessions } from "./auth/revoke.ts";
import type { ConsoleRole, Store } from "../store/types.ts";

export async function readPassword(): Promise<string> {
  if (process.env.SLUICE_PASSWORD) return process.env.SLUICE_PASSWORD;
  if (process.stdin.isTTY) process.stderr.write("password: ");
  let text = "";
  for await (const chunk of process.stdin) {
    text += chunk;
    if (text.includes("\n")) break;
  }
  return text.split(/\r?\n/)[0] ?? "";
}

const actor = () => `cli:${process.env.USER ?? "?"}`;

/** Open the configured store, run, close; AccountError becomes one line and exit 2. */
async function withStore(
  config: string | undefined,
  fn: (store: Store, runtime: Runtime) => Promise<string>,
): Promise<void> {
  const runtime = await Runtime.create({ configPath: config, logger: pino({ level: "silent" }) });
  try {
    process.stdout.write(await fn(runtime.store!, runtime));
  } catch (err) {
    if (!(err instanceof AccountError)) throw err;
    process.stderr.write(`sluice: ${err.message}\n`);
    process.exitCode = 2;
  } finally {
    await runtime.close();
  }
}

const audit = (store: Store, action: string, target: string, tenant: string | null, after: unknown) =>
  store.appendAudit({ at: new Date(), actor: actor(), action, target, tenant, before: null, after });

export function registerWebCommands(program: Command): void {
  const web = program.command("web").description("web console administration");
  const configOption = ["-c, --config <file>", "configuration file (default: embedded quick-start)"] as const;

  web
    .command("adduser")
    .description(
      "create or reset a console account (password from SLUICE_PASSWORD or stdin); a reset ends its sessions",
    )
    .argument("<login>")
    .addOption(
      new Option("--role <role>", "account role").choices(["operator", "tenant_admin"]).default("operator"),
    )
    .option("--tenant <id>", "the tenant a tenant_admin manages")
    .option(...configOption)
    .action(async (login: string, o: { role: ConsoleRole; tenant?: string; config?: string }) =>
      withStore(o.config, async (store, runtime) => {
        const a = await createAccount(store, runtime.config, {
          login,
          role: o.role,
          tenant: o.tenant,
          password: await readPassword(),
        });
        await audit(store, "account.create", a.login, a.tenant, { role: a.role, tenant: a.tenant });
        return `console account ${a.login} (${a.role}${a.tenant ? ` of ${a.tenant}` : ""}) saved\n`;
      }),
    );

  web
    .command("deluser")
    .description("delete a console account and end its sessions")
    .argument("<login>")
    .option(...configOption)
    .action(async (login: string, o: { config?: string }) =>
      withStore(o.config, async (store) => {
        const a = await deleteAccount(store, login);
        await audit(store, "account.delete", a.login, a.tenant, null);
        return `console account ${a.login} deleted\n`;
      }),
    );

  for (const action of ["disable", "enable"] as const) {
    web
      .command(action)
      .description(
        action === "disable"
          ? "disable a console account: its sessions end, logins are refused"
          : "enable a disabled console account again (with its old password)",
      )
      .argument("<login>")
      .option(...configOption)
      .action(async (login: string, o: { config?: string }) =>
        withStore(o.config, async (store) => {
          const a = await setDisabled(store, login, action === "disable");
          await audit(store, `account.${action}`, a.login, a.tenant, { disabled: action === "disable" });
          return `console account ${a.login} ${action}d\n`;
        }),
      );
  }

  web
    .command("logout")
    .description("end every session of a console account or end user (their address), on every node")
    .argument("<login>")
    .option(...configOption)
    .action(async (login: string, o: { config?: string }) =>
      withStore(o.config, async (store) => {
        const subject = login.trim().toLowerCase();
        await revokeSessions(store, subject);
        await audit(store, "session.revoke", subject, null, { by: actor() });
        return `every session of ${subject} ended\n`;
      }),
    );
}
