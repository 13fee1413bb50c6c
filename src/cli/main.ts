// The `sluice` command line: parses arguments and calls into the other folders.
// Usage errors exit 2 with a usage line; per-file scan failures exit 1.
import { Command, CommanderError, Option } from "commander";
import { Runtime } from "../runtime.ts";
import { ConfigError } from "../config/errors.ts";
import { scanFile, formatTable } from "./scan.ts";
import { serve } from "./serve.ts";
import { FilterRegistry } from "../pipeline/registry.ts";
import { builtinFilters } from "../filters/index.ts";
import { loadConfigFile } from "../config/load.ts";
import { unreadableFiles } from "../config/files.ts";
import pino from "pino";
import { writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { sieveCheck, sieveRun, type RunOptions, type ScriptLocationOptions } from "./sieve.ts";
import { trainModel, DEFAULT_MODEL_PATH } from "../filters/spam/index.ts";
import { generateDkimKey } from "../filters/auth/keygen.ts";
import { keygenToStore, listStoredKeys, txtRecordLine } from "../filters/auth/keygen-cli.ts";
import { registerWebCommands } from "../web/cli.ts";
import {
  quarantineDelete,
  quarantineList,
  quarantineRelease,
  quarantineShow,
  CliUsageError,
  type ListFilters,
} from "./quarantine.ts";
import { holdCancel, holdList, holdRelease } from "./hold.ts";
import { registerClusterCommands } from "../cluster/cli.ts";
import { directoryFlush, type FlushOptions } from "./directory.ts";
import { versionLine } from "./version.ts";
import { registerManCommand } from "./manual.ts";
import { registerConfigTools } from "./config-tools.ts";
import { registerUserCommands } from "./user.ts";
import { registerStoreCommands } from "./store-tools.ts";
import { registerSpamCommands } from "./spam.ts";

const program = new Command()
  .name("sluice")
  .description("Sluice mail-stream filtering: milter, SMTP proxy, policy")
  .version(versionLine(), "-V, --version", "print the version and exit")
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) })
  .showHelpAfterError("(run sluice --help for usage)");

program
  .command("serve")
  .description(
    "run a node: listeners, web (/metrics, /healthz); embedded quick-start defaults without --config",
  )
  .option("-c, --config <file>", "configuration file (YAML)")
  .option("--user <name>", "started as root: become this user once every port is bound")
  .option("--group <name>", "with --user: this group instead of the user's own")
  .action(async (o: { config?: string; user?: string; group?: string }) => serve(o));

program
  .command("scan")
  .description(
    "run the configured pipeline offline on .eml files (or - for stdin) and print each recipient's verdict",
  )
  .argument("<files...>", "message files, or - for standard input")
  .option("--from <addr>", "envelope sender (default: Return-Path or From of the message)")
  .addOption(
    new Option("--rcpt <addr>", "envelope recipient, repeatable (default: To and Cc)")
      .argParser(collect)
      .default([]),
  )
  .option("--ip <ip>", "client IP address", "127.0.0.1")
  .option("--helo <name>", "HELO name", "localhost")
  .option("--auth <user>", "treat the message as sent by this authenticated user")
  .option("-c, --config <file>", "configuration file (default: embedded quick-start)")
  .option("--json", "one JSON object per message")
  .option("--explain", "print each recipient's decision trace")
  .action(async (files: string[], o: Record<string, unknown>) => {
    const runtime = await Runtime.create({
      configPath: o.config as string | undefined,
      store: "if-exists",
      logger: pino({ level: "warn" }, pino.destination(2)),
    });
    let failed = 0;
    try {
      for (const file of files) {
        const report = await scanFile(runtime, file, {
          from: o.from as string | undefined,
          rcpt: o.rcpt as string[],
          ip: o.ip as string,
          helo: o.helo as string,
          auth: o.auth as string | undefined,
          json: Boolean(o.json),
          explain: Boolean(o.explain),
        });
        if (report.error) failed++;
        process.stdout.write((o.json ? JSON.stringify(report) : formatTable(report)) + "\n");
      }
    } finally {
      await runtime.close();
    }
    if (failed) process.exitCode = 1;
  });

const config = program.command("config").description("configuration tools");
config
  .command("check")
  .description(
    "validate a configuration file and that this machine can read the files it names (TLS, keys, model); prints every error with file, line and path",
  )
  .argument("<file>")
  .option("--no-files", "only the file itself (a configuration meant for another machine)")
  .action(async (file: string, o: { files: boolean }) => {
    await loadConfigFile(file, new FilterRegistry(builtinFilters()));
    if (o.files) {
      const issues = await unreadableFiles(await readFile(file, "utf8"), file);
      if (issues.length) throw new ConfigError(issues);
    }
    process.stdout.write(`${file}: ok\n`);
  });
registerClusterCommands(config); // publish, history, rollback (src/cluster/cli.ts)
registerConfigTools(config); // explain, schema

program
  .command("directory")
  .description("directory tools")
  .command("flush")
  .description("forget cached directory answers on a running node (one address, or all), as an operator")
  .argument("[address]", "any address of the user to forget; all entries when absent")
  .option("-c, --config <file>", "the node's configuration file (for its web address)")
  .option(
    "--url <url>",
    "the node's web base URL (default: from the configuration, else http://127.0.0.1:8080)",
  )
  .option(
    "--login <name>",
    "operator account (default $SLUICE_LOGIN); password from SLUICE_PASSWORD or stdin",
  )
  .action(async (address: string | undefined, o: FlushOptions) => {
    process.stdout.write(await directoryFlush(address, o));
  });

const sieve = program.command("sieve").description("Sieve policy scripts");
const scriptLocations = (c: Command) =>
  c
    .option("--global-dir <dir>", "where include :global finds NAME.sieve")
    .option("--personal-dir <dir>", "where include :personal finds NAME.sieve (default: the script's folder)")
    .option("--notify-domain <domain...>", "domains enotify may notify (default: none)");
scriptLocations(
  sieve
    .command("check")
    .description(
      "compile scripts with their includes; errors as FILE:LINE:COL: message (exit 2), warnings (exit 0)",
    )
    .argument("<files...>"),
).action((files: string[], o: ScriptLocationOptions) => {
  process.exitCode = sieveCheck(files, o);
});
scriptLocations(
  sieve
    .command("run")
    .description(
      "run a script on a message (a file, or a quarantine entry) for one recipient and print the actions",
    )
    .argument("<script>")
    .argument("[message]")
    .option("--from <addr>", "envelope sender (default: the quarantine entry's)")
    .option("--rcpt <addr>", "envelope recipient (default: the quarantine entry's first)")
    .option("--auth <user>", "authenticated sender (outbound mail)")
    .option("--quarantine <id>", "run on this stored quarantine entry (with its symbols)")
    .option("-c, --config <file>", "configuration file (for the store of --quarantine)"),
).action(async (script: string, message: string | undefined, o: RunOptions) => {
  process.exitCode = await sieveRun(script, message, o);
});

program
  .command("train")
  .description("train the spam classifier from labelled mail (directories of .eml, mbox files or Maildirs)")
  .requiredOption("--spam <path...>", "spam sources")
  .requiredOption("--ham <path...>", "ham sources")
  .option("--model <file>", "model file to write", DEFAULT_MODEL_PATH)
  .action(async (o: { spam: string[]; ham: string[]; model: string }) => {
    const res = await trainModel({ spam: o.spam, ham: o.ham, model: o.model });
    process.stdout.write(`trained on ${res.spam} spam and ${res.ham} ham; model written to ${o.model}\n`);
  });

const dkim = program.command("dkim").description("DKIM signing keys");
dkim
  .command("keygen")
  .description(
    "create a signing key, store it encrypted (secrets.key_file or SLUICE_SECRET_KEY) and print the DNS TXT record",
  )
  .argument("<domain>")
  .argument("<selector>")
  .addOption(new Option("--type <type>", "key type").choices(["rsa", "ed25519"]).default("rsa"))
  .option("-c, --config <file>", "configuration file (store, secrets, tenants)")
  .option("--tenant <id>", "tenant whose senders may use it (default: the tenant owning the domain)")
  .option("--out <file>", "write the private key (PEM) to this file instead of the store", undefined)
  .action(
    async (
      domain: string,
      selector: string,
      o: { type: "rsa" | "ed25519"; out?: string; config?: string; tenant?: string },
    ) => {
      if (o.out) {
        const key = generateDkimKey(o.type);
        writeFileSync(o.out, key.privatePem, { mode: 0o600 });
        const line = txtRecordLine(domain, selector, key.dnsTxt);
        process.stdout.write(`private key written to ${o.out}\n${line}\n`);
        return;
      }
      const text = await withStore(o.config, async (rt) => {
        if (!rt.store) throw new CliUsageError("no store: check the configuration's store: setting");
        return keygenToStore(rt.store, rt.config, { domain, selector, type: o.type, tenant: o.tenant });
      });
      process.stdout.write(text);
    },
  );
dkim
  .command("list")
  .description("list the DKIM keys in the store with their DNS records")
  .option("-c, --config <file>", "configuration file")
  .option("--tenant <id>", "only this tenant's keys")
  .option("--domain <domain>", "only this domain's keys")
  .action(async (o: { config?: string; tenant?: string; domain?: string }) => {
    const text = await withStore(o.config, async (rt) => {
      if (!rt.store) throw new CliUsageError("no store: check the configuration's store: setting");
      return listStoredKeys(rt.store, { tenant: o.tenant, domain: o.domain });
    });
    process.stdout.write(text);
  });

/** Quarantine and hold commands open the configured store; the node need not be running. */
async function withStore<T>(configPath: string | undefined, fn: (rt: Runtime) => Promise<T>): Promise<T> {
  const rt = await Runtime.create({ configPath, logger: pino({ level: "warn" }, pino.destination(2)) });
  try {
    return await fn(rt);
  } finally {
    await rt.close();
  }
}

const listOptions = (c: Command) =>
  c
    .option("-c, --config <file>", "configuration file (default: embedded quick-start)")
    .option("--tenant <id>", "only this tenant")
    .option("--recipient <addr>", "only entries for this recipient")
    .option("--since <when>", "created since an ISO date, or 30m / 12h / 7d ago")
    .option("--state <state>", "only entries in this state")
    .option("--limit <n>", "at most this many", "100")
    .option("--json", "one JSON object per line");

const quarantineCmd = program
  .command("quarantine")
  .description("the quarantine (stored copies of held-back mail)");
listOptions(quarantineCmd.command("list").description("list quarantine entries, newest first")).action(
  async (o: ListFilters & { config?: string }) => {
    process.stdout.write(await withStore(o.config, (rt) => quarantineList(rt, o)));
  },
);
quarantineCmd
  .command("show")
  .description("show one entry (or its raw message)")
  .argument("<id>")
  .option("-c, --config <file>", "configuration file")
  .option("--raw", "print the stored message")
  .action(async (id: string, o: { config?: string; raw?: boolean }) => {
    process.stdout.write(await withStore(o.config, (rt) => quarantineShow(rt, id, o)));
  });
quarantineCmd
  .command("release")
  .description("re-inject to the next hop, once, for all quarantined recipients or --rcpt ones")
  .argument("<id>")
  .option("-c, --config <file>", "configuration file")
  .addOption(new Option("--rcpt <addr>", "recipient to release, repeatable").argParser(collect).default([]))
  .option("--learn-ham", "also teach the spam classifier that this is ham")
  .option("--actor <name>", "who releases (for the log)", `cli:${process.env.USER ?? "unknown"}`)
  .action(async (id: string, o: { config?: string; rcpt: string[]; learnHam?: boolean; actor: string }) => {
    const res = await withStore(o.config, (rt) => quarantineRelease(rt, id, o));
    process.stdout.write(res.text);
    if (!res.ok) process.exitCode = 1;
  });
quarantineCmd
  .command("delete")
  .description("mark quarantined recipients deleted (all, or --rcpt ones)")
  .argument("<id>")
  .option("-c, --config <file>", "configuration file")
  .addOption(new Option("--rcpt <addr>", "recipient, repeatable").argParser(collect).default([]))
  .option("--actor <name>", "who deletes (for the log)", `cli:${process.env.USER ?? "unknown"}`)
  .action(async (id: string, o: { config?: string; rcpt: string[]; actor: string }) => {
    process.stdout.write(await withStore(o.config, (rt) => quarantineDelete(rt, id, o)));
  });

const holdCmd = program.command("hold").description("the hold queue (outbound mail waiting to be sent)");
listOptions(holdCmd.command("list").description("list hold entries by release time")).action(
  async (o: ListFilters & { config?: string }) => {
    process.stdout.write(await withStore(o.config, (rt) => holdList(rt, o)));
  },
);
holdCmd
  .command("release")
  .description("send a held message now (--approve: as its approver, in approval mode)")
  .argument("<id>")
  .option("-c, --config <file>", "configuration file")
  .option("--approve", "approve it (the actor must be one of the tenant's approvers)")
  .option("--actor <name>", "who releases or approves", `cli:${process.env.USER ?? "unknown"}`)
  .action(async (id: string, o: { config?: string; approve?: boolean; actor: string }) => {
    process.stdout.write(await withStore(o.config, (rt) => holdRelease(rt, id, o)));
  });
holdCmd
  .command("cancel")
  .description("cancel a held message (it is never sent)")
  .argument("<id>")
  .option("-c, --config <file>", "configuration file")
  .option("--actor <name>", "who cancels", `cli:${process.env.USER ?? "unknown"}`)
  .action(async (id: string, o: { config?: string; actor: string }) => {
    process.stdout.write(await withStore(o.config, (rt) => holdCancel(rt, id, o)));
  });

registerWebCommands(program);
registerUserCommands(program);
registerStoreCommands(program);
registerSpamCommands(program);
registerManCommand(program); // last: it documents every command registered above

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

for (const cmd of [program, ...program.commands, ...program.commands.flatMap((c) => c.commands)]) {
  cmd.exitOverride();
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
  if (
    err instanceof Error &&
    [
      "CliUsageError",
      "ReleaseError",
      "HoldError",
      "ClusterError",
      "DkimKeyError",
      "StoreSchemaError",
    ].includes(err.name)
  ) {
    process.stderr.write(`sluice: ${err.message}\n`);
    process.exit(2);
  }
  if (err instanceof ConfigError) {
    process.stderr.write(err.message + "\n");
    process.exit(2);
  }
  process.stderr.write(`sluice: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
}
