// SMTP connection metrics per listener: sessions opened (and refused at the connection limit),
// sessions open now, and every reply by code. Refusals are also counted with their reason where
// they are chosen (sluice_refusals_total).
import { Counter, Gauge, type Registry } from "prom-client";

export interface SessionMetrics {
  opened(listener: string): void;
  closed(listener: string): void;
  refused(listener: string): void;
  replied(listener: string, code: number): void;
}

export function smtpSessionMetrics(registry: Registry): SessionMetrics {
  const total =
    (registry.getSingleMetric("sluice_smtp_sessions_total") as Counter | undefined) ??
    new Counter({
      name: "sluice_smtp_sessions_total",
      help: "SMTP connections by listener; result accepted or refused (connection limits)",
      labelNames: ["listener", "result"],
      registers: [registry],
    });
  const active =
    (registry.getSingleMetric("sluice_smtp_sessions_active") as Gauge | undefined) ??
    new Gauge({
      name: "sluice_smtp_sessions_active",
      help: "SMTP connections open now, by listener",
      labelNames: ["listener"],
      registers: [registry],
    });
  const replies =
    (registry.getSingleMetric("sluice_smtp_replies_total") as Counter | undefined) ??
    new Counter({
      name: "sluice_smtp_replies_total",
      help: "SMTP replies sent, by listener and reply code",
      labelNames: ["listener", "code"],
      registers: [registry],
    });
  return {
    replied: (listener, code) => {
      if (Number.isInteger(code)) replies.inc({ listener, code: String(code) });
    },
    opened: (listener) => {
      total.inc({ listener, result: "accepted" });
      active.inc({ listener });
    },
    closed: (listener) => active.dec({ listener }),
    refused: (listener) => total.inc({ listener, result: "refused" }),
  };
}
