// The cluster agent of one node: learns of new configuration revisions for its role (LISTEN/
// NOTIFY where the store has it, polling always as the fallback), applies them live through
// Runtime.applyConfigText, and writes a heartbeat (applied revision, version, uptime, health).
// A revision that fails to apply is reported and skipped; the last good one stays in force.
// While the store is unreachable the node keeps running its last revision and retries with
// backoff; the last applied revision is also kept in a local file (revision-cache.ts) so a node
// can even *start* while PostgreSQL is down. State: status(), /healthz ("cluster"), metrics.
import type { Logger } from "pino";
import { Counter, Gauge } from "prom-client";
import type { Runtime } from "../runtime.ts";
import type { ConfigRevision, NodeHeartbeat, ShadowRun, Store } from "../store/types.ts";
import { ConfigError, formatIssue } from "../config/errors.ts";
import { sluiceVersion, type NodeIdentity } from "./identity.ts";
import { composeConfig } from "./revision.ts";
import { readCachedRevision, writeCachedRevision, type CachedRevision } from "./revision-cache.ts";
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
  /** Where the last applied revision is kept for a start without the store (absent: nowhere). */
  cachePath?: string;
  /** While the store is down, retries back off from pollDownMs, doubling up to this (30 s). */
  pollDownMaxMs?: number;
}

/** The node cannot start: the store is down and there is no cached revision to run. */
export class ClusterStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ClusterStartError";
  }
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
  /** The revision in force came from the local cache and the store has not confirmed it yet. */
  fromCache: boolean;
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
  private fromCache = false;
  /** Consecutive failed attempts to reach the store (the retry backoff), and since when. */
  private failures = 0;
  private downSince: number | null = null;
  private cacheChecked = false;
  private watch: { close(): Promise<void> } | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private beatTimer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly applyFailures: Counter;
  private readonly storeFailures: Counter;

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
    gauge(
      "sluice_cluster_config_cached",
      "1 while the revision in force comes from the local cache, not yet confirmed by the store",
      () => (this.fromCache ? 1 : 0),
    );
    this.storeFailures = new Counter({
      name: "sluice_cluster_store_failures_total",
      help: "attempts to reach the cluster store that failed (retried with backoff)",
      registers,
    });
    opts.runtime.setHealth("cluster", () => ({
      degraded: !this.storeReachable,
      store: this.storeReachable ? "up" : "down",
      revision: this.applied?.rev ?? null,
      config: this.fromCache ? "cache" : this.applied ? "store" : "local",
    }));
    this.applyFailures = new Counter({
      name: "sluice_cluster_apply_failures_total",
      help: "revisions this node refused to apply",
      registers,
    });
  }

  /**
   * Apply the role's newest revision (if the store answers), then follow new ones. A store that
   * was down when the runtime opened it: start on the cached revision (ClusterStartError if
   * there is none) and keep retrying in the background.
   */
  async start(): Promise<void> {
    const down = this.opts.runtime.storeError;
    if (down) await this.startFromCache(down);
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

  private async startFromCache(down: Error): Promise<void> {
    const { runtime, log, cachePath } = this.opts;
    this.storeReachable = false;
    this.downSince = Date.now();
    const cached = cachePath ? await readCachedRevision(cachePath, this.identity.role) : null;
    if (!cached) {
      throw new ClusterStartError(
        `cluster store unreachable (${down.message}) and no cached revision of role ${this.identity.role}` +
          (cachePath ? ` at ${cachePath}` : "") +
          ": not starting without the cluster configuration; start again once PostgreSQL is up",
      );
    }
    if (cached.rev !== null && cached.text !== null) {
      const source = `revision ${cached.rev} (role ${cached.role}, cached)`;
      try {
        runtime.applyConfigText(composeConfig(await this.opts.localText(), cached.text), source);
      } catch (err) {
        const why =
          err instanceof ConfigError ? err.issues.map(formatIssue).join("; ") : (err as Error).message;
        throw new ClusterStartError(
          `cluster store unreachable and the cached revision ${cached.rev} does not apply: ${why}`,
        );
      }
      this.applied = {
        rev: cached.rev,
        role: cached.role,
        text: cached.text,
        author: cached.author ?? "",
        note: null,
        rollbackOf: null,
        createdAt: new Date(cached.appliedAt),
      };
    }
    this.fromCache = true;
    log.warn(
      { err: down.message, rev: cached.rev, applied_at: cached.appliedAt },
      "cluster: store unreachable at start; running the cached revision and retrying with backoff",
    );
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
      fromCache: this.fromCache,
    };
  }

  private schedulePoll(): void {
    if (this.stopped) return;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    const down = this.opts.pollDownMs ?? 2000;
    const ms = this.listening
      ? (this.opts.pollMs ?? 15_000)
      : this.storeReachable
        ? down
        : Math.min(down * 2 ** Math.min(this.failures - 1, 16), this.opts.pollDownMaxMs ?? 30_000);
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
      await this.opts.runtime.connectStore(); // migrations, if the store was down at start
      latest = await this.opts.store.latestConfigRevision(this.identity.role);
      running = this.opts.shadow
        ? await this.opts.store.listShadows({ role: this.identity.role, state: "running" })
        : [];
      if (!this.storeReachable) {
        const downMs = this.downSince === null ? null : Date.now() - this.downSince;
        this.opts.log.info({ down_ms: downMs, attempts: this.failures }, "cluster: store reachable again");
      }
      this.storeReachable = true;
      this.failures = 0;
      this.downSince = null;
    } catch (err) {
      this.failures++;
      this.storeFailures.inc();
      if (this.storeReachable) {
        this.downSince = Date.now();
        this.opts.log.warn(
          { err: (err as Error).message, applied: this.applied?.rev ?? null },
          "cluster: store unreachable; keeping the configuration in force",
        );
      }
      this.storeReachable = false;
      return;
    }
    if (this.fromCache && (latest?.rev ?? null) === (this.applied?.rev ?? null)) {
      this.fromCache = false;
      this.opts.log.info(
        { rev: this.applied?.rev ?? null },
        "cluster: the store confirms the cached revision",
      );
    }
    if (!latest && !this.cacheChecked) {
      // The store answered and the role has no revision: a later start without it runs the file.
      this.cacheChecked = true;
      await this.remember(null);
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
      this.fromCache = false;
      this.failedRev = null;
      this.error = null;
      log.info({ rev: r.rev, role: r.role, author: r.author }, "cluster: configuration revision applied");
      await this.remember(r);
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

  /** Keep the revision in force for a start without the store; a failure only costs that. */
  private async remember(r: ConfigRevision | null): Promise<void> {
    const path = this.opts.cachePath;
    if (!path) return;
    const entry: CachedRevision = {
      role: this.identity.role,
      rev: r?.rev ?? null,
      text: r?.text ?? null,
      author: r?.author ?? null,
      appliedAt: new Date().toISOString(),
    };
    await writeCachedRevision(path, entry).catch((err: Error) =>
      this.opts.log.warn({ err: err.message, path }, "cluster: could not keep the applied revision locally"),
    );
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
