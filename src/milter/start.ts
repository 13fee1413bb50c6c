// Starts the milter listeners of a node from its configuration (`milter:`), wiring the
// server to the runtime's sessions, the store (quarantine/hold) and the re-injection port.
import type { Logger } from "pino";
import type { Runtime } from "../runtime.ts";
import { storeGroup } from "../pipeline/store-group.ts";
import { MilterServer } from "./server.ts";
import { smtpReinjector } from "./reinject.ts";

export async function startMilter(runtime: Runtime, log: Logger): Promise<MilterServer | null> {
  const cfg = runtime.config.milter;
  if (!cfg.enabled) return null;
  const target = cfg.reinject ? /^smtp:\/\/([^:/]+):(\d+)$/.exec(cfg.reinject) : null;
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
  });
  for (const spec of cfg.listen) {
    const a = await server.listen(spec);
    log.info({ listener: "milter", address: a.spec, port: a.port }, "listening");
  }
  return server;
}
