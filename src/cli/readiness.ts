// Readiness for /healthz: the things a message needs, checked in the background every few
// seconds (never per request): the SQLite store (a PostgreSQL one is the cluster agent's part of
// /healthz), the directory (LDAP), clamd where the virus filter is
// on, and the next hops. "ready: false" (503) means the node would tempfail every message (next
// hop, LDAP with on_unavailable: tempfail, or clamd with on_unavailable: tempfail unreachable);
// anything less is "degraded" (200). /livez only says the process answers.
import { access, constants } from "node:fs/promises";
import { connect } from "node:net";
import { dirname } from "node:path";
import type { Logger } from "pino";
import { Gauge, type Registry } from "prom-client";
import { CachedDirectory } from "../policy/cached-directory.ts";
import { OverrideDirectory } from "../policy/override-directory.ts";
import type { Runtime } from "../runtime.ts";

const TIMEOUT_MS = 3000;

/**
 * One check as /healthz shows it. /healthz answers anyone who reaches the web port, so it names
 * checks by position (next_hop[1], clamd[0]) and keeps addresses and errors for the log.
 */
export interface Check {
  up: boolean;
  /** How long the check took. */
  ms: number;
  /** Down means every message would be tempfailed. */
  critical: boolean;
}

export interface ReadinessReport {
  ready: boolean;
  degraded: boolean;
  checkedAt: string | null;
  checks: Record<string, Check>;
}

function timeout<T>(p: Promise<T>, ms = TIMEOUT_MS): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms).unref()),
  ]);
}

/** Connect and read the first line: an SMTP/LMTP server greets with 220, clamd answers PONG. */
function converse(
  target: { host: string; port: number } | { path: string },
  send: string | null,
  want: RegExp,
) {
  return new Promise<void>((resolve, reject) => {
    const s = "path" in target ? connect(target.path) : connect(target.port, target.host);
    let got = "";
    const done = (err?: Error) => {
      s.destroy();
      if (err) reject(err);
      else resolve();
    };
    s.setTimeout(TIMEOUT_MS, () => done(new Error("timed out")));
    s.on("error", (err) => done(err));
    s.on("connect", () => {
      if (send !== null) s.write(send);
    });
    s.on("data", (d) => {
      got += d;
      if (want.test(got)) done();
      else if (got.includes("\n") || got.includes("\0"))
        done(new Error(`answered ${JSON.stringify(got.slice(0, 60))}`));
    });
    s.on("close", () => done(new Error(`closed after ${JSON.stringify(got.slice(0, 60))}`)));
  });
}

function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port: Number(u.port || (u.protocol === "lmtp:" ? 24 : 25)),
  };
}

async function nextHop(target: string): Promise<void> {
  if (target.startsWith("maildir:")) {
    // The root, or the nearest folder above it that exists, must be writable (the root is made on first delivery).
    let dir = target.slice("maildir:".length);
    for (;;) {
      try {
        await access(dir, constants.W_OK);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT" || dirname(dir) === dir) throw err;
        dir = dirname(dir);
      }
    }
  }
  await converse(hostPort(target), null, /^220[ -]/m);
}

export class Readiness {
  private report: ReadinessReport = { ready: true, degraded: false, checkedAt: null, checks: {} };
  private timer: NodeJS.Timeout | null = null;
  private readonly up: Gauge;
  private readonly ready: Gauge;
  private readonly latency: Gauge;

  private readonly runtime: Runtime;
  private readonly log: Logger;
  private readonly intervalMs: number;

  constructor(runtime: Runtime, log: Logger, registry: Registry, intervalMs = 15_000) {
    this.runtime = runtime;
    this.log = log;
    this.intervalMs = intervalMs;
    const gauge = (name: string, help: string, labelNames: string[] = []) =>
      (registry.getSingleMetric(name) as Gauge | undefined) ??
      new Gauge({ name, help, labelNames, registers: [registry] });
    this.up = gauge("sluice_dependency_up", "1 when the last readiness check of a dependency succeeded", [
      "dependency",
    ]);
    this.latency = gauge("sluice_dependency_check_seconds", "How long the last readiness check took", [
      "dependency",
    ]);
    this.ready = gauge(
      "sluice_ready",
      "1 when /healthz answers 200 (no dependency makes every message tempfail)",
    );
  }

  /** The checks that apply to the configuration in force. */
  private plan(): Record<string, { critical: boolean; target: string; run: () => Promise<unknown> }> {
    const rt = this.runtime;
    const cfg = rt.config;
    const plan: Record<string, { critical: boolean; target: string; run: () => Promise<unknown> }> = {};
    const store = rt.store;
    // PostgreSQL: the cluster agent already follows the store ("cluster" in /healthz, at once).
    if (store && cfg.store.startsWith("sqlite:")) {
      plan.store = { critical: false, target: cfg.store, run: () => store.getCursor("readiness") };
    }
    // Users' overrides (the portal) wrap the directory: the LDAP cache is the inner one.
    const dir = rt.directory instanceof OverrideDirectory ? rt.directory.inner : rt.directory;
    if (dir instanceof CachedDirectory && cfg.directory?.type === "ldap") {
      const domain = cfg.tenants[0]?.domains[0] ?? "invalid";
      plan.directory = {
        critical: cfg.directory.on_unavailable === "tempfail",
        target: cfg.directory.url,
        // Past the cache: the question is whether LDAP answers now.
        run: () => dir.inner.lookup(`sluice-readiness-probe@${domain}`),
      };
    }
    const virus = rt.resolver.connectionPolicy().filters.virus;
    const clamdOn = virus?.enabled || cfg.tenants.some((t) => t.policy?.filters?.virus?.enabled === true);
    if (virus && clamdOn) {
      const endpoints = (virus.options.clamd ?? []) as (
        { host: string; port: number } | { socket: string }
      )[];
      endpoints.forEach((e, i) => {
        const target = "socket" in e ? { path: e.socket } : e;
        plan[`clamd[${i}]`] = {
          critical: virus.options.on_unavailable === "tempfail" && endpoints.length === 1,
          target: "socket" in e ? e.socket : `${e.host}:${e.port}`,
          run: () => converse(target, "zPING\0", /PONG/),
        };
      });
    }
    const proxy = Object.values(cfg.smtp.listeners).some((l) => l.enabled);
    const targets = new Set<string>(proxy ? [cfg.delivery] : []);
    for (const t of cfg.tenants)
      for (const x of [t.delivery, ...Object.values(t.routes)]) if (x) targets.add(x);
    if (cfg.milter.enabled && cfg.milter.reinject) targets.add(cfg.milter.reinject);
    [...targets].forEach((target, i) => {
      plan[`next_hop[${i}]`] = {
        critical: proxy && target === cfg.delivery,
        target,
        run: () => nextHop(target),
      };
    });
    return plan;
  }

  async check(): Promise<ReadinessReport> {
    const checks: Record<string, Check> = {};
    const failing: Record<string, string> = {};
    await Promise.all(
      Object.entries(this.plan()).map(async ([name, c]) => {
        const t0 = performance.now();
        let up = true;
        try {
          await timeout(c.run());
        } catch (err) {
          up = false;
          failing[name] = `${c.target}: ${(err as Error).message}`;
        }
        const ms = Math.round(performance.now() - t0);
        checks[name] = { up, ms, critical: c.critical };
        this.up.set({ dependency: name }, up ? 1 : 0);
        this.latency.set({ dependency: name }, ms / 1000);
      }),
    );
    const down = Object.entries(checks).filter(([, c]) => !c.up);
    const ready = !down.some(([, c]) => c.critical);
    const was = this.report;
    this.report = { ready, degraded: down.length > 0, checkedAt: new Date().toISOString(), checks };
    this.ready.set(ready ? 1 : 0);
    if (was.checkedAt === null || was.ready !== ready || was.degraded !== this.report.degraded) {
      if (down.length) this.log.warn({ ready, failing }, "readiness: a dependency does not answer");
      else if (was.checkedAt !== null) this.log.info("readiness: every dependency answers again");
    }
    return this.report;
  }

  /** Check now, then every interval; /healthz shows the last result under "readiness". */
  async start(): Promise<void> {
    this.runtime.setHealth("readiness", () => ({ ...this.report }));
    const targets = Object.fromEntries(Object.entries(this.plan()).map(([n, c]) => [n, c.target]));
    this.log.info({ checks: targets }, "readiness checks (/healthz names them by position)");
    await this.check();
    this.timer = setInterval(() => void this.check().catch(() => undefined), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
