// The cluster agent of one node: learns of new configuration revisions for its role (LISTEN/
// NOTIFY where the store has it, polling always as the fallback), applies them live through
// Runtime.applyConfigText, and writes a heartbeat (applied revision, version, uptime, health).
// A revision that fails to apply is reported and skipped; the last good one stays in force.
// While the store is unreachable the node keeps running its last revision and retries.
import type { Logger } from "pino";
import { Counter, Gauge } from "prom-client";
import type { Runtime } from "../runtime.ts";
import type { ConfigRevision, NodeHeartbeat, ShadowRun, Store } from "../store/types.ts";
import { ConfigError, formatIssue } from "../config/errors.ts";
import { sluiceVersion, type NodeIdentity } from "./identity.ts";
import { composeConfig } from "./revision.ts";
import type { ShadowEvaluator } from "./shadow.ts";

export interface ClusterAgentOptions {
  runtime: Runtime;
  store: Store;
  identity: NodeIdentity;
  /** The node's own configuration text (re-read on each apply, so SIGHUP edits count). */
  localText: () => Promise<string> | string;
  log: Logger;
  heartbeatMs?: number;
  /** Poll interval while LISTEN is up (a safety net) and while it is down (the fallback). */
  pollMs?: number;
  pollDownMs?: number;
  /** Evaluates shadow runs aimed at this node (absent: this node never shadows). */
  shadow?: ShadowEvaluator;
}

export interface ClusterStatus {
  name: string;
  role: string;
  appliedRev: number | null;
  failedRev: number | null;
  error: string | null;
  listening: boolean;
  storeReachable: boolean;
  /** The shadow run evaluated here, if any. */
  shadow: number | null;
}

export class ClusterAgent {
  readonly identity: NodeIdentity;
  readonly shadow: ShadowEvaluator | null;
  private readonly opts: ClusterAgentOptions;
  private readonly startedAt = new Date();
  private applied: ConfigRevision | null = null;
  private failedRev: number | null = null;
  private error: string | null = null;
  private listening = false;
  private storeReachable = true;
  private watch: { close(): Promise<void> } | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private beatTimer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly applyFailures: Counter;

  constructor(opts: ClusterAgentOptions) {
    this.opts = opts;
    this.identity = opts.identity;
    this.shadow = opts.shadow ?? null;
    const registers = [opts.runtime.metrics.registry];
    const gauge = (name: string, help: string, value: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(value());
        },
      });
    gauge(
      "sluice_cluster_applied_revision",
      "configuration revision in force (0: local file)",
      () => this.applied?.rev ?? 0,
    );
    gauge("sluice_cluster_store_up", "1 while the cluster store answers", () =>
      this.storeReachable ? 1 : 0,
    );
    gauge("sluice_cluster_listen_up", "1 while LISTEN for new revisions is connected", () =>
      this.listening ? 1 : 0,
    );
    this.applyFailures = new Counter({
      name: "sluice_cluster_apply_failures_total",
      help: "revisions this node refused to apply",
      registers,
    });
  }

  /** Apply the role's newest revision (if the store answers), then follow new ones. */
  async start(): Promise<void> {
    await this.check();
    const { store } = this.opts;
    if (store.watchConfig) {
      this.watch = await store.watchConfig(
        (role) => {
          if (role === this.identity.role) void this.check();
        },
        (up, err) => {
          this.listening = up;
          if (up)
            void this.check(); // catch up on anything published while we were deaf
          else
            this.opts.log.warn(
              { err: err?.message },
              "cluster: lost LISTEN connection; polling until it is back",
            );
          this.schedulePoll();
        },
      );
    }
    this.schedulePoll();
    await this.heartbeat();
    this.beatTimer = setInterval(() => void this.heartbeat(), this.opts.heartbeatMs ?? 5000);
    this.beatTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    if (this.beatTimer) clearInterval(this.beatTimer);
    await this.watch?.close();
    await this.chain;
    await this.opts.shadow?.stop();
  }

  status(): ClusterStatus {
    return {
      name: this.identity.name,
      role: this.identity.role,
      appliedRev: this.applied?.rev ?? null,
      failedRev: this.failedRev,
      error: this.error,
      listening: this.listening,
      storeReachable: this.storeReachable,
      shadow: this.opts.shadow?.current?.id ?? null,
    };
  }

  private schedulePoll(): void {
    if (this.stopped) return;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    const ms = this.listening ? (this.opts.pollMs ?? 15_000) : (this.opts.pollDownMs ?? 2000);
    this.pollTimer = setTimeout(() => {
      void this.check().finally(() => this.schedulePoll());
    }, ms);
    this.pollTimer.unref();
  }

  /** Look for a newer revision of our role and apply it; serialised, never throws. */
  check(): Promise<void> {
    this.chain = this.chain
      .then(() => this.checkNow())
      .catch((err: unknown) => {
        this.opts.log.error({ err: (err as Error).message }, "cluster: check failed");
      });
    return this.chain;
  }

  /**
   * SIGHUP: read the local file again and re-apply the revision in force over it — or, if the
   * newest revision was refused here, try that one again (the file may have been the cause).
   */
  reapply(): Promise<void> {
    const run = this.chain.then(async () => {
      if (this.failedRev !== null) {
        this.failedRev = null;
        this.error = null;
        await this.checkNow();
      } else if (this.applied) await this.apply(this.applied);
      else return this.opts.runtime.reload();
      await this.heartbeat();
      if (this.failedRev !== null) throw new Error(this.error ?? "apply failed");
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async checkNow(): Promise<void> {
    if (this.stopped) return;
    let latest: ConfigRevision | null;
    let running: ShadowRun[];
    try {
      latest = await this.opts.store.latestConfigRevision(this.identity.role);
      running = this.opts.shadow
        ? await this.opts.store.listShadows({ role: this.identity.role, state: "running" })
        : [];
      if (!this.storeReachable) this.opts.log.info("cluster: store reachable again");
      this.storeReachable = true;
    } catch (err) {
      if (this.storeReachable) {
        this.opts.log.warn(
          { err: (err as Error).message, applied: this.applied?.rev ?? null },
          "cluster: store unreachable; keeping the configuration in force",
        );
      }
      this.storeReachable = false;
      return;
    }
    if (latest && latest.rev !== this.applied?.rev && latest.rev !== this.failedRev) {
      await this.apply(latest);
      await this.heartbeat();
    }
    // After the live revision: a candidate is composed over the same local file.
    if (this.opts.shadow) await this.opts.shadow.sync(running, await this.opts.localText());
  }

  private async apply(r: ConfigRevision): Promise<void> {
    const { runtime, log } = this.opts;
    const source = `revision ${r.rev} (role ${r.role})`;
    try {
      runtime.applyConfigText(composeConfig(await this.opts.localText(), r.text), source);
      this.applied = r;
      this.failedRev = null;
      this.error = null;
      log.info({ rev: r.rev, role: r.role, author: r.author }, "cluster: configuration revision applied");
    } catch (err) {
      this.failedRev = r.rev;
      this.applyFailures.inc();
      this.error =
        err instanceof ConfigError ? err.issues.map(formatIssue).join("; ") : (err as Error).message;
      log.error(
        { rev: r.rev, error: this.error, keeping: this.applied?.rev ?? null },
        "cluster: revision refused on this node; the previous configuration stays in force",
      );
    }
  }

  private async heartbeat(): Promise<void> {
    const hb: NodeHeartbeat = {
      name: this.identity.name,
      role: this.identity.role,
      version: sluiceVersion(),
      startedAt: this.startedAt,
      seenAt: new Date(),
      appliedRev: this.applied?.rev ?? null,
      health: this.failedRev === null ? "ok" : "apply_failed",
      failedRev: this.failedRev,
      error: this.error,
    };
    try {
      await this.opts.store.putHeartbeat(hb);
    } catch {
      // The store is away: checkNow reports that; the next beat tries again.
    }
  }
}
