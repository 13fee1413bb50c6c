// Prometheus metrics of the virus filter, on a registry passed in (the runtime wires its own);
// without one they live on a private registry, so tests and several runtimes never collide.
import { Counter, Histogram, Registry } from "prom-client";

export interface VirusMetrics {
  registry: Registry;
  /** Scans by result: clean, infected, too-large, unavailable. */
  scans: Counter<"result">;
  /** Scanner outages by what the policy made of them: tempfail or header. */
  unavailable: Counter<"outcome">;
  scanSeconds: Histogram;
}

export function virusMetrics(registry: Registry = new Registry()): VirusMetrics {
  return {
    registry,
    scans: new Counter({
      name: "sluice_virus_scans_total",
      help: "clamd scans by result",
      labelNames: ["result"],
      registers: [registry],
    }),
    unavailable: new Counter({
      name: "sluice_virus_scanner_unavailable_total",
      help: "Messages no clamd instance could scan, by the outcome the policy chose",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    scanSeconds: new Histogram({
      name: "sluice_virus_scan_seconds",
      help: "Time of one clamd scan including failover",
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers: [registry],
    }),
  };
}
