// Prometheus metrics of the pipeline (prom-client), on a registry passed in — never the
// global one, so tests and several runtimes in one process do not collide.
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export class PipelineMetrics {
  readonly registry: Registry;
  readonly messages: Counter<"action">;
  readonly filterSeconds: Histogram<"filter">;
  readonly filterErrors: Counter<"filter">;
  readonly refusals: Counter<"stage" | "class">;

  constructor(registry = new Registry(), withDefaults = false) {
    this.registry = registry;
    if (withDefaults) collectDefaultMetrics({ register: registry, prefix: "sluice_" });
    this.messages = new Counter({
      name: "sluice_recipient_verdicts_total",
      help: "Per-recipient verdicts by final action",
      labelNames: ["action"],
      registers: [registry],
    });
    this.filterSeconds = new Histogram({
      name: "sluice_filter_duration_seconds",
      help: "Time spent in each filter call",
      labelNames: ["filter"],
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers: [registry],
    });
    this.filterErrors = new Counter({
      name: "sluice_filter_errors_total",
      help: "Filter calls that threw or timed out",
      labelNames: ["filter"],
      registers: [registry],
    });
    this.refusals = new Counter({
      name: "sluice_refusals_total",
      help: "Replies refused with a reference id (each has a message-log entry), by stage and 4xx/5xx",
      labelNames: ["stage", "class"],
      registers: [registry],
    });
  }
}
