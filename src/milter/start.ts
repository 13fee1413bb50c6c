// Starts the milter listeners of a node from its configuration (`milter:`), wiring the
// server to the runtime's sessions, the store (quarantine/hold), the re-injection port and,
// after each accepted message, its notifications (Sieve notify_template, virus notices) sent
// from the null sender through the recipient's next hop, as the SMTP proxy does.
import type { Logger } from "pino";
import type { Runtime } from "../runtime.ts";
import { MilterServer } from "./server.ts";
import { wantedFor, type Wanted } from "./negotiation.ts";
import { stageNeeds } from "../pipeline/stage-needs.ts";
import type { Config } from "../config/schema.ts";
import { commitExtraCopies } from "../delivery/reinject.ts";
import { quarantineIdOf } from "../delivery/copies.ts";
import { Routes } from "../delivery/nexthop/route.ts";
import { NextHopNotificationSender } from "../delivery/nexthop/notification-sender.ts";
import { sendAfterCommit } from "../delivery/notify-after.ts";
import { applySocketPerms } from "./socket-perms.ts";

export async function startMilter(runtime: Runtime, log: Logger): Promise<MilterServer | null> {
  const cfg = runtime.config.milter;
  if (!cfg.enabled) return null;
  const smtp = runtime.config.smtp;
  const routes = new Routes(smtp.hostname, smtp.limits.next_hop_timeout_s * 1000, runtime.metrics.registry);
  const hop = cfg.reinject ? routes.hop(cfg.reinject) : null;
  const sender = new NextHopNotificationSender(
    routes,
    (a) => runtime.resolver.routeFor(a),
    runtime.signNotice,
  );
  // Each new MTA connection negotiates with the configuration in force when it opens: a revision
  // that enables a filter at MAIL or RCPT makes later connections wait for those replies again.
  let negotiated: { config: Config; wanted: Wanted } | null = null;
  const wanted = (): Wanted => {
    const config = runtime.config;
    if (negotiated?.config !== config) {
      const needs = stageNeeds(runtime.registry.all(), config);
      negotiated = { config, wanted: wantedFor(needs) };
      log.info({ answer: [...needs.answer], filters: needs.filters }, "milter: stages that wait for a reply");
    }
    return negotiated.wanted;
  };
  const server = new MilterServer({
    newSession: () => runtime.newSession(),
    commit: (tx, result, extra) =>
      commitExtraCopies(tx, result, extra, {
        store: runtime.store,
        owner: (a, kind) => runtime.resolver.ownerOf(a, tx.envelope, kind),
        hop,
        log,
      }),
    logger: log,
    progressIntervalMs: cfg.progress_interval_ms,
    quarantineMode: cfg.quarantine_mode,
    localName: runtime.config.smtp.hostname,
    daemonIngress: cfg.daemon_ingress,
    wanted,
    metrics: runtime.metrics.registry,
    afterCommit: (tx, result, copies) =>
      // A message the MTA holds itself (quarantine_mode: mta) has no copies, hence no ids.
      sendAfterCommit(tx, result, quarantineIdOf(copies), runtime.resolver, sender, log),
  });
  for (const spec of cfg.listen) {
    const a = await server.listen(spec);
    if (spec.startsWith("unix:")) applySocketPerms(spec.slice("unix:".length), cfg.unix_socket);
    log.info({ listener: "milter", address: a.spec, port: a.port }, "listening");
  }
  return server;
}
