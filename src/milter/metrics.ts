// Prometheus metrics of the milter front end: commands received by type, and how long the MTA
// waited for each answer. Counting is a plain array increment per packet (the hot path); the
// counter is brought up to date only when /metrics is scraped.
import { Counter, Histogram, type Registry } from "prom-client";
import type { CommandType } from "./commands.ts";

const COMMANDS: readonly CommandType[] = [
  "optneg",
  "macro",
  "connect",
  "helo",
  "mail",
  "rcpt",
  "data",
  "header",
  "eoh",
  "body",
  "eom",
  "abort",
  "quit",
  "quit_nc",
  "unknown",
];
const INDEX = new Map(COMMANDS.map((c, i) => [c, i]));

// Every MilterMetrics on a registry (several servers, tests) adds its counts at scrape time.
const sources = new WeakMap<Registry, (() => void)[]>();

export class MilterMetrics {
  private readonly counts = new Float64Array(COMMANDS.length);
  private readonly answerSeconds: Histogram<"command">;

  constructor(registry: Registry) {
    let list = sources.get(registry);
    if (!list) {
      const all: (() => void)[] = (list = []);
      sources.set(registry, all);
      new Counter({
        name: "sluice_milter_commands_total",
        help: "Milter commands received from the MTA, by command (macro packets included)",
        labelNames: ["command"],
        registers: [registry],
        collect() {
          for (const sync of all) sync();
        },
      });
    }
    const counter = registry.getSingleMetric("sluice_milter_commands_total") as Counter<"command">;
    const counts = this.counts;
    const reported = new Float64Array(COMMANDS.length);
    list.push(() => {
      for (let i = 0; i < counts.length; i++) {
        const d = counts[i]! - reported[i]!;
        if (d > 0) counter.inc({ command: COMMANDS[i]! }, d);
        reported[i] = counts[i]!;
      }
    });
    this.answerSeconds =
      (registry.getSingleMetric("sluice_milter_answer_duration_seconds") as
        Histogram<"command"> | undefined) ??
      new Histogram({
        name: "sluice_milter_answer_duration_seconds",
        help: "From a milter command the MTA waits on to its answer being written, by command",
        labelNames: ["command"],
        buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
        registers: [registry],
      });
  }

  command(type: CommandType): void {
    this.counts[INDEX.get(type)!]!++;
  }

  answered(type: CommandType, seconds: number): void {
    this.answerSeconds.observe({ command: type }, seconds);
  }
}
