// Prometheus metrics of the connection-level defences, on the runtime's registry (absent: a
// private one, so tests and several runtimes never collide). DNS list lookups count in lookup.ts.
import { Counter, Registry } from "prom-client";

export interface DefenceMetrics {
  /** Greylisting decisions: new, early, passed, known, client-allowed, exempt, error. */
  greylist: Counter<"result">;
  /** Recipients refused over a rate limit, by limit (user_messages, client_recipients …). */
  rateLimited: Counter<"limit">;
  /** Rate checks that could not reach the store (let through). */
  rateErrors: Counter;
}

export function defenceMetrics(registry: Registry = new Registry()): DefenceMetrics {
  return {
    greylist: new Counter({
      name: "sluice_greylist_total",
      help: "Greylisting decisions at RCPT by result (new and early are tempfailed)",
      labelNames: ["result"],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: "sluice_ratelimit_exceeded_total",
      help: "Recipients refused with 451 4.7.1 over a rate limit, by limit",
      labelNames: ["limit"],
      registers: [registry],
    }),
    rateErrors: new Counter({
      name: "sluice_ratelimit_errors_total",
      help: "Rate checks that could not reach the store (the recipient was let through)",
      registers: [registry],
    }),
  };
}
