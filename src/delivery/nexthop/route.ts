// Parses delivery targets (smtp://host:port, lmtp://host:port, maildir:PATH) into next
// hops, once per distinct target, and picks the route of a recipient (its tenant's
// delivery, else the node's default).
import { Counter, Histogram, type Registry } from "prom-client";
import { MaildirNextHop } from "./maildir.ts";
import { SmtpNextHop } from "./smtp.ts";
import type { DeliveryRequest, DeliveryResult, NextHop } from "./types.ts";

export class RouteError extends Error {}

export function parseTarget(target: string, name: string, timeoutMs: number): NextHop {
  if (target.startsWith("maildir:")) {
    const path = target.slice("maildir:".length);
    if (!path) throw new RouteError(`"${target}": maildir needs a path`);
    return new MaildirNextHop(path);
  }
  const m = /^(smtp|lmtp):\/\/(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?\/?$/i.exec(target);
  if (!m) throw new RouteError(`"${target}": expected smtp://host:port, lmtp://host:port or maildir:PATH`);
  const lmtp = m[1]!.toLowerCase() === "lmtp";
  return new SmtpNextHop({
    host: m[2]!.replace(/^\[|\]$/g, ""),
    port: Number(m[3] ?? (lmtp ? 24 : 25)),
    lmtp,
    name,
    timeoutMs,
  });
}

export class Routes {
  private readonly hops = new Map<string, NextHop>();
  private readonly name: string;
  private readonly timeoutMs: number;
  private readonly metrics: DeliveryMetrics | null;

  /** `registry`: count every delivery attempt and its latency per next hop (/metrics). */
  constructor(name: string, timeoutMs: number, registry?: Registry) {
    this.name = name;
    this.timeoutMs = timeoutMs;
    this.metrics = registry ? deliveryMetrics(registry) : null;
  }

  hop(target: string): NextHop {
    let h = this.hops.get(target);
    if (!h) {
      const hop = parseTarget(target, this.name, this.timeoutMs);
      h = this.metrics ? measured(hop, this.metrics) : hop;
      this.hops.set(target, h);
    }
    return h;
  }
}

interface DeliveryMetrics {
  attempts: Counter;
  seconds: Histogram;
}

/** One set per registry (several Routes may share a node's registry). */
function deliveryMetrics(registry: Registry): DeliveryMetrics {
  return {
    attempts:
      (registry.getSingleMetric("sluice_delivery_attempts_total") as Counter | undefined) ??
      new Counter({
        name: "sluice_delivery_attempts_total",
        help: "Next-hop transactions by target and result (ok: every recipient accepted; partial; temporary; permanent)",
        labelNames: ["next_hop", "result"],
        registers: [registry],
      }),
    seconds:
      (registry.getSingleMetric("sluice_delivery_seconds") as Histogram | undefined) ??
      new Histogram({
        name: "sluice_delivery_seconds",
        help: "Time of one next-hop transaction (connect to the last reply), by target",
        labelNames: ["next_hop"],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers: [registry],
      }),
  };
}

function measured(hop: NextHop, m: DeliveryMetrics): NextHop {
  return {
    target: hop.target,
    async deliver(req: DeliveryRequest): Promise<DeliveryResult> {
      const end = m.seconds.startTimer({ next_hop: hop.target });
      const res = await hop.deliver(req);
      end();
      const result =
        res.failed.length === 0
          ? "ok"
          : res.accepted.length > 0
            ? "partial"
            : res.failed.every((f) => f.permanent)
              ? "permanent"
              : "temporary";
      m.attempts.inc({ next_hop: hop.target, result });
      return res;
    },
  };
}
