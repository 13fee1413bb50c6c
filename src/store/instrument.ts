// Store metrics without touching the SQL layer: every Store method is timed
// (sluice_store_operation_seconds{operation}, errors counted by operation), and the number of
// quarantine entries still holding a recipient is a gauge counted on scrape, at most once a minute.
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Store } from "./types.ts";

const single = <T>(registry: Registry, name: string, make: () => T): T =>
  (registry.getSingleMetric(name) as T | undefined) ?? make();

export function instrumentStore(store: Store, registry: Registry): Store {
  const seconds = single(
    registry,
    "sluice_store_operation_seconds",
    () =>
      new Histogram({
        name: "sluice_store_operation_seconds",
        help: "Store operations by method, with their latency",
        labelNames: ["operation"],
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
        registers: [registry],
      }),
  );
  const errors = single(
    registry,
    "sluice_store_errors_total",
    () =>
      new Counter({
        name: "sluice_store_errors_total",
        help: "Store operations that failed, by method",
        labelNames: ["operation"],
        registers: [registry],
      }),
  );
  let cached: { at: number; n: number } | null = null;
  single(
    registry,
    "sluice_quarantine_entries",
    () =>
      new Gauge({
        name: "sluice_quarantine_entries",
        help: "Quarantine entries with a recipient still quarantined (at most 100000 counted; refreshed once a minute)",
        registers: [registry],
        async collect() {
          if (!cached || Date.now() - cached.at > 60_000) {
            const n = (await store.listQuarantine({ state: "quarantined", limit: 100_000 }).catch(() => null))
              ?.length;
            if (n !== undefined) cached = { at: Date.now(), n };
          }
          if (cached) this.set(cached.n);
        },
      }),
  );
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== "function" || typeof prop !== "string" || prop === "close") return value;
      return (...args: unknown[]) => {
        const end = seconds.startTimer({ operation: prop });
        let result: unknown;
        try {
          result = (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (err) {
          end();
          errors.inc({ operation: prop });
          throw err;
        }
        if (result instanceof Promise) {
          return result.then(
            (v) => (end(), v),
            (err: unknown) => {
              end();
              errors.inc({ operation: prop });
              throw err;
            },
          );
        }
        end();
        return result;
      };
    },
  });
}
