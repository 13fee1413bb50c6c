// `sluice learn` and `sluice spam …`: lessons from files (messages, Maildirs, mbox) and the
// learned models' revisions — status, compaction now, history, rollback — in the configured
// store (the node need not be running; running nodes pick changes up within seconds).
import { userInfo } from "node:os";
import type { Command } from "commander";
import pino from "pino";
import { Runtime } from "../runtime.ts";
import { learnForRecipient } from "../filters/spam/feedback.ts";
import { readMessages } from "../filters/spam/sources.ts";
import { SpamModel } from "../filters/spam/model.ts";
import { DEFAULT_MODEL_PATH } from "../filters/spam/classifier.ts";
import { CliUsageError } from "./quarantine.ts";

async function withRuntime<T>(configPath: string | undefined, fn: (rt: Runtime) => Promise<T>): Promise<T> {
  const rt = await Runtime.create({ configPath, logger: pino({ level: "warn" }, pino.destination(2)) });
  try {
    if (!rt.spamLearning) throw new CliUsageError("no store to keep lessons in: check the store: setting");
    return await fn(rt);
  } finally {
    await rt.close();
  }
}

/** The recipient whose policy decides the model: given, or the tenant's postmaster, or a stranger's. */
function recipientFor(rt: Runtime, o: { rcpt?: string; tenant?: string }): string {
  if (o.rcpt) return o.rcpt.toLowerCase();
  if (!o.tenant) return "postmaster@localhost";
  const t = rt.config.tenants.find((x) => x.id === o.tenant);
  if (!t) throw new CliUsageError(`no tenant ${o.tenant}`);
  return `postmaster@${t.domains[0]}`;
}

const modelPathOf = (rt: Runtime): string =>
  (rt.resolver.connectionPolicy().filters["spam-classifier"]?.options as { model?: string } | undefined)
    ?.model ?? DEFAULT_MODEL_PATH;

export function registerSpamCommands(program: Command): void {
  program
    .command("learn")
    .description(
      "teach the spam classifier: each message (file, Maildir, mbox) is a lesson kept in the store",
    )
    .argument("<paths...>", "message files, Maildirs, directories of .eml files or mbox files")
    .option("--spam", "the messages are spam")
    .option("--ham", "the messages are not spam")
    .option("--rcpt <addr>", "whose mail it is (their policy picks the model; default: the shared one)")
    .option("--tenant <id>", "this tenant's model (when its policy learns per tenant)")
    .option("--as <actor>", "who judged (default: cli:<your login>)")
    .option("-c, --config <file>", "configuration file (default: embedded quick-start)")
    .action(
      async (
        paths: string[],
        o: { spam?: boolean; ham?: boolean; rcpt?: string; tenant?: string; as?: string; config?: string },
      ) => {
        if (!!o.spam === !!o.ham) throw new CliUsageError("give exactly one of --spam and --ham");
        const label = o.spam ? "spam" : "ham";
        const actor = o.as ?? `cli:${userInfo().username}`;
        const counts: Record<string, number> = {};
        await withRuntime(o.config, async (rt) => {
          const recipient = recipientFor(rt, o);
          const policy = await rt.resolver.forRecipient(recipient);
          for (const path of paths) {
            for await (const message of readMessages(path)) {
              const outcome = await learnForRecipient(
                rt.spamLearning,
                policy.filters["spam-classifier"],
                policy.tenant?.id ?? null,
                { message, label, source: "cli", actor, recipient },
              );
              counts[outcome] = (counts[outcome] ?? 0) + 1;
            }
          }
        });
        const parts = Object.entries(counts).map(([k, v]) => `${v} ${k}`);
        process.stdout.write(`${label}: ${parts.join(", ") || "no messages"}\n`);
        if (!counts.learned && !counts.duplicate) process.exitCode = 1;
      },
    );

  const spam = program.command("spam").description("the spam classifier's learned models");
  spam
    .command("status")
    .description(
      "lessons per scope, class and source (with disagreements), and the newest revision of each scope",
    )
    .option("-c, --config <file>", "configuration file")
    .option("--json", "JSON")
    .action(async (o: { config?: string; json?: boolean }) => {
      await withRuntime(o.config, async (rt) => {
        const store = rt.spamLearning!.store;
        const lessons = await store.spamLessonStats();
        const revisions = await store.listSpamModels({ limit: 1000 });
        const scopes = [...new Set([...lessons.map((l) => l.scope), ...revisions.map((r) => r.scope)])];
        const rows = scopes.map((scope) => ({
          scope,
          revision: revisions.find((r) => r.scope === scope) ?? null,
          lessons: lessons.filter((l) => l.scope === scope),
        }));
        if (o.json) {
          process.stdout.write(JSON.stringify(rows) + "\n");
          return;
        }
        if (!rows.length) process.stdout.write("no lessons yet; scoring with the model file\n");
        for (const r of rows) {
          const rev = r.revision
            ? `revision ${r.revision.rev} (${r.revision.createdAt.toISOString()}, lessons up to ${r.revision.lessonsUpTo})`
            : "no revision (model file + lessons)";
          process.stdout.write(`scope ${r.scope || "(shared)"}: ${rev}\n`);
          for (const l of r.lessons)
            process.stdout.write(
              `  ${l.label.padEnd(4)} ${l.source.padEnd(9)} ${l.count} (${l.disagreements} disagreed)\n`,
            );
        }
      });
    });
  spam
    .command("compact")
    .description("fold the lessons into a new model revision now (serve does it every compact_minutes)")
    .option("--scope <scope>", 'the model: "" shared (default) or a tenant id', "")
    .option("-c, --config <file>", "configuration file")
    .action(async (o: { scope: string; config?: string }) => {
      await withRuntime(o.config, async (rt) => {
        const rev = await rt.spamLearning!.compact(
          o.scope,
          () => SpamModel.load(modelPathOf(rt)),
          `cli:${userInfo().username}`,
        );
        process.stdout.write(
          rev ? `published revision ${rev.rev} (lessons up to ${rev.lessonsUpTo})\n` : "no new lessons\n",
        );
      });
    });
  spam
    .command("history")
    .description("model revisions, newest first")
    .option("--scope <scope>", "only this scope")
    .option("-c, --config <file>", "configuration file")
    .action(async (o: { scope?: string; config?: string }) => {
      await withRuntime(o.config, async (rt) => {
        for (const r of await rt.spamLearning!.store.listSpamModels({ scope: o.scope })) {
          const note = r.rollbackOf ? `rollback of ${r.rollbackOf}` : (r.note ?? "");
          process.stdout.write(
            `${r.rev}\t${r.scope || "(shared)"}\t${r.createdAt.toISOString()}\t${r.author}\tlessons ≤ ${r.lessonsUpTo}\t${note}\n`,
          );
        }
      });
    });
  spam
    .command("rollback")
    .description("publish an earlier revision again (lessons kept since are not applied again)")
    .argument("<rev>", "revision number")
    .option("-c, --config <file>", "configuration file")
    .action(async (rev: string, o: { config?: string }) => {
      if (!/^\d+$/.test(rev)) throw new CliUsageError(`not a revision number: ${rev}`);
      await withRuntime(o.config, async (rt) => {
        const r = await rt
          .spamLearning!.rollback(Number(rev), `cli:${userInfo().username}`)
          .catch((err: Error) => {
            throw new CliUsageError(err.message);
          });
        process.stdout.write(`published revision ${r.rev} (rollback of ${rev})\n`);
      });
    });
}
