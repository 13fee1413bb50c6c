// `sluice serve`: start a node — runtime, web (/metrics, /healthz) and the listeners —
// reload on SIGHUP (a bad file is refused, the old configuration stays), stop on SIGTERM.
import { Runtime } from "../runtime.ts";
import { startWeb } from "../web/server.ts";
import { ConfigError, formatIssue } from "../config/errors.ts";
import { loadTls } from "../smtp/tls.ts";
import { startSmtpListeners } from "../smtp/listener.ts";
import { pendingDir, recoverPending } from "../smtp/pending.ts";
import { startMilter } from "../milter/start.ts";
import { startQuarantineJobs } from "../quarantine/index.ts";
import { startSpamJobs } from "../filters/spam/jobs.ts";
import { frontRuntime, startClusterAgent } from "../cluster/start.ts";
import { ClusterStartError } from "../cluster/agent.ts";
import { ensureOperator } from "./first-login.ts";
import { VERSION } from "./version.ts";
import { dropPrivileges, lookupAccount, runningAsRoot } from "./privileges.ts";
import { reloadTls } from "./tls-reload.ts";
import { Readiness } from "./readiness.ts";
import type { Server as HttpsServer } from "node:https";

export interface ServeOptions {
  config?: string;
  /** Started as root: the user (and group) to become once every port is bound. */
  user?: string;
  group?: string;
}

export async function serve(opts: ServeOptions): Promise<void> {
  // Checked before anything starts: a typo in --user must not leave a root node running.
  const account = opts.user && runningAsRoot() ? lookupAccount(opts.user, opts.group) : null;
  // A cluster node whose PostgreSQL is down still starts, on its cached revision (cluster/agent.ts).
  const runtime = await Runtime.create({ configPath: opts.config, tolerateStoreDown: true });
  const log = runtime.log;
  const cfg = runtime.config;
  if (!opts.config) {
    log.info(
      {
        tenants: cfg.tenants.map((t) => ({
          id: t.id,
          domains: t.domains,
          users: t.users.map((u) => `${u.address} (spam filter ${u.spam_filter === false ? "OFF" : "ON"})`),
        })),
        delivery: cfg.delivery,
      },
      "no configuration file given: running the embedded quick-start configuration",
    );
  }
  log.info(
    { version: VERSION, config: runtime.source, store: cfg.store, role: cfg.node.role },
    "configuration loaded",
  );
  // PostgreSQL store: apply the role's newest published revision before listening, then follow.
  let cluster: Awaited<ReturnType<typeof startClusterAgent>>;
  try {
    cluster = await startClusterAgent(runtime, opts.config);
  } catch (err) {
    if (!(err instanceof ClusterStartError)) throw err;
    // One clear log line, not a stack trace: the operator knows what to fix.
    log.fatal({ err: err.message }, "cannot start");
    await runtime.close();
    process.exitCode = 1;
    return;
  }
  const web = await startWeb(runtime, cfg.web.listen);
  log.info(
    { listener: "web", address: cfg.web.listen, paths: ["/healthz", "/livez", "/metrics"] },
    "listening",
  );
  const tls = await loadTls(cfg.smtp.tls, "./var", cfg.smtp.hostname);
  if (tls.selfSigned) {
    log.warn(
      { cert: tls.cert },
      "no TLS certificate configured: using a self-signed one (set smtp.tls for production)",
    );
  }
  // Copies stored for messages a crash left unanswered go before the first new session.
  await recoverPending(pendingDir(cfg.spool.dir), runtime.storeError ? null : runtime.store, log).catch(
    (err: Error) =>
      log.error({ err: err.message }, "could not clear copies of unanswered messages; next start retries"),
  );
  const smtp = await startSmtpListeners(frontRuntime(runtime, cluster), tls, log);
  for (const [kind, address] of Object.entries(smtp.addresses))
    log.info({ listener: kind, address }, "listening");
  const milter = await startMilter(frontRuntime(runtime, cluster), log);
  // Every port is bound: root is no longer needed (nothing below opens a privileged port).
  if (account) dropPrivileges(account, runtime.config, log);
  else if (runningAsRoot()) log.warn("running as root: pass --user NAME to drop privileges after binding");
  // /healthz readiness: store, directory, clamd and next hops, checked now and every 15 s.
  const readiness = new Readiness(runtime, log, runtime.metrics.registry);
  await readiness.start();
  // Hold release, digests and quarantine expiry; interrupted releases are resumed first.
  const jobs = await startQuarantineJobs(runtime);
  // Spam lessons compacted into a new model revision every compact_minutes (one node per slot).
  const spamJobs = startSpamJobs({
    learning: runtime.spamLearning,
    store: runtime.store,
    options: () => runtime.resolver.connectionPolicy().filters["spam-classifier"]?.options,
    log,
  });
  // No operator yet: the quick start creates one (password in this log, once); else the command.
  if (!runtime.storeError)
    await ensureOperator(runtime.store, runtime.config, log, { configPath: opts.config });
  log.info({ pid: process.pid }, "ready");

  const stopping = new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, "stopping");
      resolve();
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  process.on("SIGHUP", () => {
    (cluster ? cluster.reapply() : runtime.reload())
      .then(() => log.info({ config: runtime.source }, "configuration reloaded"))
      .catch((err: unknown) => {
        const issues = err instanceof ConfigError ? err.issues.map(formatIssue) : [(err as Error).message];
        log.error({ issues }, "configuration reload refused; the previous configuration stays in force");
      })
      // Renewed certificates are read again either way (the configuration in force names them).
      .then(() =>
        reloadTls(
          runtime.config,
          { smtp, web: runtime.config.web.tls ? (web.server as HttpsServer) : null },
          log,
        ),
      );
  });
  await stopping;
  readiness.stop();
  await jobs.stop();
  await spamJobs.stop();
  await cluster?.stop();
  await milter?.close();
  await smtp.close();
  await web.close();
  await runtime.close();
  log.info("stopped");
}
