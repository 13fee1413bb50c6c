// Starts the milter listeners of a node from its configuration (`milter:`), wiring the
// server to the runtime's sessions, the store (quarantine/hold), the re-injection port and,
// after each accepted message, its notifications (Sieve notify_template, virus notices) sent
// from the null sender through the recipient's next hop, as the SMTP proxy does.
import type { Logger } from "pino";
import type { Runtime } from "../runtime.ts";
import { storeGroup } from "../pipeline/store-group.ts";
import { MilterServer } from "./server.ts";
import { smtpReinjector } from "./reinject.ts";
import { Routes } from "../smtp/nexthop/route.ts";
import { NextHopNotificationSender } from "../smtp/nexthop/notification-sender.ts";
import { sendAfterCommit } from "../smtp/notify-after.ts";

export async function startMilter(runtime: Runtime, log: Logger): Promise<MilterServer | null> {
  const cfg = runtime.config.milter;
  if (!cfg.enabled) return null;
  const target = cfg.reinject ? /^smtp:\/\/([^:/]+):(\d+)$/.exec(cfg.reinject) : null;
  const smtp = runtime.config.smtp;
  const routes = new Routes(smtp.hostname, smtp.limits.next_hop_timeout_s * 1000);
  const sender = new NextHopNotificationSender(routes, (a) => runtime.resolver.routeFor(a));
  const server = new MilterServer({
    newSession: () => runtime.newSession(),
    storeGroup: (tx, group) =>
      storeGroup(runtime.store, tx, group, (a) => runtime.resolver.tenantFor(a)?.id ?? null, log),
    reinject: target
      ? smtpReinjector({ host: target[1]!, port: Number(target[2]), localName: runtime.config.smtp.hostname })
      : async () => {
          throw new Error("recipients with different outcomes need milter.reinject (a milter-less MTA port)");
        },
    logger: log,
    progressIntervalMs: cfg.progress_interval_ms,
    quarantineMode: cfg.quarantine_mode,
    localName: runtime.config.smtp.hostname,
    daemonIngress: cfg.daemon_ingress,
    afterCommit: (tx, result) => {
      // Quarantined copies are stored under the transaction id unless the MTA holds the message.
      const inMtaHold =
        cfg.quarantine_mode === "mta" && result.groups.every((g) => g.disposition !== "deliver");
      const quarantined =
        !inMtaHold && result.groups.some((g) => g.disposition === "quarantine") ? tx.id : null;
      return sendAfterCommit(tx, result, quarantined, runtime.resolver, sender, log);
    },
  });
  for (const spec of cfg.listen) {
    const a = await server.listen(spec);
    log.info({ listener: "milter", address: a.spec, port: a.port }, "listening");
  }
  return server;
}
