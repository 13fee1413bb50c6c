// `sluice web adduser`: bootstrap console accounts (the first operator, tenant admins) in
// the node's store. The password comes from SLUICE_PASSWORD or the first line of standard
// input, never from the command line (it would show in ps and shell history).
import { Option, type Command } from "commander";
import pino from "pino";
import { Runtime } from "../runtime.ts";
import { AccountError, createAccount } from "./auth/accounts.ts";
import type { ConsoleRole } from "../store/types.ts";

async function readPassword(): Promise<string> {
  if (process.env.SLUICE_PASSWORD) return process.env.SLUICE_PASSWORD;
  if (process.stdin.isTTY) process.stderr.write("password: ");
  let text = "";
  for await (const chunk of process.stdin) {
    text += chunk;
    if (text.includes("\n")) break;
  }
  return text.split(/\r?\n/)[0] ?? "";
}

export function registerWebCommands(program: Command): void {
  program
    .command("web")
    .description("web console administration")
    .command("adduser")
    .description("create or reset a console account (password from SLUICE_PASSWORD or stdin)")
    .argument("<login>")
    .addOption(
      new Option("--role <role>", "account role").choices(["operator", "tenant_admin"]).default("operator"),
    )
    .option("--tenant <id>", "the tenant a tenant_admin manages")
    .option("-c, --config <file>", "configuration file (default: embedded quick-start)")
    .action(async (login: string, o: { role: ConsoleRole; tenant?: string; config?: string }) => {
      const runtime = await Runtime.create({ configPath: o.config, logger: pino({ level: "silent" }) });
      try {
        const password = await readPassword();
        await createAccount(runtime.store!, runtime.config, {
          login,
          role: o.role,
          tenant: o.tenant,
          password,
        });
        await runtime.store!.appendAudit({
          at: new Date(),
          actor: `cli:${process.env.USER ?? "?"}`,
          action: "account.create",
          target: login,
          tenant: o.tenant ?? null,
          before: null,
          after: { role: o.role, tenant: o.tenant ?? null },
        });
        process.stdout.write(
          `console account ${login} (${o.role}${o.tenant ? ` of ${o.tenant}` : ""}) saved\n`,
        );
      } catch (err) {
        if (!(err instanceof AccountError)) throw err;
        process.stderr.write(`sluice: ${err.message}\n`);
        process.exitCode = 2;
      } finally {
        await runtime.close();
      }
    });
}
