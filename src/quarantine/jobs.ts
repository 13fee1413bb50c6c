// Background jobs of a node: resume interrupted releases once, then tick the hold queue
// (every few seconds), the digests (every minute; each tenant has its own interval) and the
// quarantine expiry (hourly). One job run at a time per kind; stop() waits for runs in flight.
import type { Runtime } from "../runtime.ts";
import { runDigests } from "./digest.ts";
import { runExpiry } from "./expiry.ts";
import { holdTick } from "./hold-scheduler.ts";
import { resumeReleases, routesFor } from "./release.ts";

export interface QuarantineJobs {
  stop(): Promise<void>;
}

export interface JobIntervals {
  holdMs?: number;
  digestMs?: number;
  expiryMs?: number;
}

export async function startQuarantineJobs(
  runtime: Runtime,
  every: JobIntervals = {},
): Promise<QuarantineJobs> {
  if (!runtime.store) return { stop: async () => undefined };
  const routes = routesFor(runtime);
  await resumeReleases(runtime, routes).catch((err: Error) =>
    runtime.log.error({ err: err.message }, "could not resume interrupted releases"),
  );
  const running = new Set<Promise<unknown>>();
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;
  const every_ = (name: string, ms: number, fn: () => Promise<unknown>) => {
    let busy = false;
    const run = () => {
      if (busy || stopped) return;
      busy = true;
      const p = fn()
        .catch((err: Error) => runtime.log.error({ job: name, err: err.message }, "job failed"))
        .finally(() => {
          busy = false;
          running.delete(p);
        });
      running.add(p);
    };
    timers.push(setInterval(run, ms));
    run();
  };
  every_("hold", every.holdMs ?? 5_000, () => holdTick(runtime, routes));
  every_("digest", every.digestMs ?? 60_000, () => runDigests(runtime, routes));
  every_("expiry", every.expiryMs ?? 3_600_000, () => runExpiry(runtime));
  return {
    async stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      await Promise.allSettled([...running]);
    },
  };
}
