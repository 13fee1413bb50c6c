// Composition root: configuration → store → directory → policy → filters → pipeline.
// Front ends ask it for a fresh Session per connection; a reload swaps the parts atomically
// so sessions in flight finish on the configuration they started with.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import pino, { type Logger } from "pino";
import { loadConfigFile, parseConfig } from "./config/load.ts";
import { QUICKSTART_YAML } from "./config/quickstart.ts";
import type { Config } from "./config/schema.ts";
import { builtinFilters } from "./filters/index.ts";
import { loadSecretKey, StoreKeySource, type KeySource } from "./filters/auth/index.ts";
import { PipelineMetrics } from "./pipeline/metrics.ts";
import { PipelineSession } from "./pipeline/pipeline-session.ts";
import { FilterRegistry } from "./pipeline/registry.ts";
import type { Session } from "./pipeline/session.ts";
import { BuiltinDirectory } from "./policy/builtin-directory.ts";
import { CachedDirectory } from "./policy/cached-directory.ts";
import { LdapDirectory } from "./policy/ldap/ldap-directory.ts";
import type { Directory } from "./policy/directory.ts";
import { OverrideDirectory, selfServiceOf } from "./policy/override-directory.ts";
import { PolicyResolver } from "./policy/resolve.ts";
import { openStore, openStoreLenient } from "./store/open.ts";
import { instrumentStore } from "./store/instrument.ts";
import { withStoreFaults } from "./store/fault-store.ts";
import { SpamLearning } from "./filters/spam/learning.ts";
import type { Store } from "./store/types.ts";
import type { IntakeLimits } from "./message/transaction.ts";
import { defenceDeps } from "./runtime-defences.ts";
import { createNoticeSigner, type NoticeSigner } from "./delivery/notice-dkim.ts";

export interface RuntimeOptions {
  /** Configuration file; absent means the embedded quick-start configuration. */
  configPath?: string;
  /** Configuration text (tests); wins over configPath. */
  configText?: string;
  logger?: Logger;
  /** Open the configured store: "always", "if-exists" (offline scan), or "never". */
  store?: "always" | "if-exists" | "never";
  /**
   * A PostgreSQL store that does not answer at start is kept (unmigrated, `storeError` set)
   * instead of failing: `serve` then starts on the cached revision and the cluster agent
   * retries with `connectStore()`.
   */
  tolerateStoreDown?: boolean;
  /** Extra filters (tests); they replace built-in filters of the same name. */
  extraFilters?: import("./pipeline/types.ts").Filter[];
}

/** One part's health for /healthz: degraded or not, plus a few public facts. */
export type HealthPart = { degraded: boolean } & Record<string, unknown>;

interface Parts {
  config: Config;
  directory: Directory;
  resolver: PolicyResolver;
  intake: IntakeLimits;
}

export class Runtime {
  readonly log: Logger;
  readonly metrics: PipelineMetrics;
  readonly registry: FilterRegistry;
  readonly store: Store | null;
  private _source: string;
  private parts: Parts;
  private readonly opts: RuntimeOptions;
  private _storeError: Error | null = null;
  private readonly healthParts = new Map<string, () => HealthPart>();
  private dkimKeys: KeySource | null = null;
  /** The spam classifier's lessons and learned models (null without a store). */
  spamLearning: SpamLearning | null = null;
  /** DKIM-signs a notice Sluice wrote (virus, hold, digest, Sieve) as its tenant, when it has a key. */
  readonly signNotice: NoticeSigner;

  private constructor(
    opts: RuntimeOptions,
    log: Logger,
    registry: FilterRegistry,
    metrics: PipelineMetrics,
    store: Store | null,
    parts: Parts,
  ) {
    this.opts = opts;
    this.log = log;
    this.registry = registry;
    this.store = store;
    this.parts = parts;
    this.metrics = metrics;
    this._source = opts.configText !== undefined ? "(inline)" : (opts.configPath ?? "(embedded quick-start)");
    this.signNotice = createNoticeSigner({ config: () => this.config, keys: () => this.dkimKeys, log });
  }

  static async create(opts: RuntimeOptions = {}): Promise<Runtime> {
    // Extra filters replace built-in ones of the same name (tests pin their own instances).
    const extra = opts.extraFilters ?? [];
    const metrics = new PipelineMetrics(undefined, true);
    // The store and the resolver exist only later: the filters reach them through these holders.
    let keys: KeySource | null = null;
    let spamLearning: SpamLearning | null = null;
    let runtime: Runtime | null = null;
    const builtins = builtinFilters({
      registry: metrics.registry,
      keys: () => keys,
      spamLearning: () => spamLearning,
      tenantOf: (a) => runtime?.resolver.tenantFor(a)?.id ?? null,
      reputation: defenceDeps(() => runtime),
    }).filter((f) => !extra.some((e) => e.name === f.name));
    const registry = new FilterRegistry([...builtins, ...extra]);
    const config = await readConfig(opts, registry);
    const log =
      opts.logger ?? pino({ level: config.log.level, base: { node: config.node.name ?? hostname() } });
    const mode = opts.store ?? "always";
    const sqlitePath = config.store.startsWith("sqlite:") ? config.store.slice(7) : null;
    const open = mode === "always" || (mode === "if-exists" && sqlitePath !== null && existsSync(sqlitePath));
    let store: Store | null = null;
    let storeError: Error | null = null;
    if (open && opts.tolerateStoreDown) ({ store, error: storeError } = await openStoreLenient(config.store));
    else if (open) store = await openStore(config.store);
    // Every store call timed for /metrics (and the quarantine's size counted on scrape).
    if (store) store = instrumentStore(store, metrics.registry);
    if (store) store = withStoreFaults(store); // crash points for tests; the store itself otherwise
    const secret = await loadSecretKey({ keyFile: config.secrets?.key_file });
    if (store && secret) keys = new StoreKeySource(store, secret);
    if (store) spamLearning = SpamLearning.forStore(store, { log, registry: metrics.registry });
    runtime = new Runtime(opts, log, registry, metrics, store, makeParts(config, registry, store));
    runtime._storeError = storeError;
    runtime.dkimKeys = keys;
    runtime.spamLearning = spamLearning;
    return runtime;
  }

  /** Why the store could not be opened at start (tolerateStoreDown), until connectStore() works. */
  get storeError(): Error | null {
    return this._storeError;
  }

  /** Open (migrate) a store that was down at start; throws StoreError while it still is. */
  async connectStore(): Promise<void> {
    if (!this._storeError || !this.store) return;
    await this.store.migrate();
    this._storeError = null;
  }

  /** A part of the node reports its health here (e.g. the cluster agent); see health(). */
  setHealth(name: string, part: () => HealthPart): void {
    this.healthParts.set(name, part);
  }

  /** What /healthz shows: "degraded" while some part is (the node still filters mail). */
  health(): { status: "ok" | "degraded" } & Record<string, unknown> {
    const parts = Object.fromEntries([...this.healthParts].map(([name, f]) => [name, f()]));
    const degraded = Object.values(parts).some((p) => p.degraded);
    return { status: degraded ? "degraded" : "ok", ...parts };
  }

  /** Where the configuration in force came from (file, inline, or a cluster revision). */
  get source(): string {
    return this._source;
  }

  /** The node's own configuration text (file, inline or quick start): a first revision starts from it. */
  async localText(): Promise<string> {
    if (this.opts.configText !== undefined) return this.opts.configText;
    if (this.opts.configPath) return readFile(this.opts.configPath, "utf8");
    return QUICKSTART_YAML;
  }

  get config(): Config {
    return this.parts.config;
  }

  get resolver(): PolicyResolver {
    return this.parts.resolver;
  }

  get directory(): Directory {
    return this.parts.directory;
  }

  newSession(): Session {
    const p = this.parts;
    return new PipelineSession({
      filters: this.registry.all(),
      resolver: p.resolver,
      log: this.log,
      metrics: this.metrics,
      intake: p.intake,
      store: this.store,
    });
  }

  /** Re-read the configuration; on any error the old one stays and the error is thrown. */
  async reload(): Promise<void> {
    const config = await readConfig(this.opts, this.registry);
    this.parts = makeParts(config, this.registry, this.store);
    this._source =
      this.opts.configText !== undefined ? "(inline)" : (this.opts.configPath ?? "(embedded quick-start)");
  }

  /**
   * Validate a whole configuration text and swap it in (cluster revisions). On any error the
   * old configuration stays and the error is thrown. The store is never reopened: it is the
   * node's own setting. Sessions already open keep the parts they captured.
   */
  applyConfigText(text: string, source: string): void {
    const config = parseConfig(text, source, this.registry);
    this.parts = makeParts(config, this.registry, this.store);
    this._source = source;
  }

  async close(): Promise<void> {
    await this.store?.close();
  }
}

async function readConfig(opts: RuntimeOptions, registry: FilterRegistry): Promise<Config> {
  if (opts.configText !== undefined) return parseConfig(opts.configText, "(inline)", registry);
  if (opts.configPath) return loadConfigFile(opts.configPath, registry);
  return parseConfig(QUICKSTART_YAML, "(embedded quick-start)", registry);
}

function makeParts(config: Config, registry: FilterRegistry, store: Store | null): Parts {
  let directory: Directory = new BuiltinDirectory(config, store);
  if (config.directory?.type === "ldap") {
    const d = config.directory;
    const log = pino({ level: config.log.level, base: { component: "directory" } });
    const ldap = new LdapDirectory({ config: d, tenants: config.tenants, log });
    directory = new CachedDirectory(ldap, {
      cache: d.cache,
      onUnavailable: d.on_unavailable,
      tenantOf: (a) => ldap.tenantOf(a),
      onFallback: (address, kind, err) =>
        log.warn({ rcpt: address, err: err.message }, `directory unavailable; using ${kind}`),
    });
  }
  // Users' own settings from the portal, laid over the directory's answer (policy.self_service).
  if (store) {
    directory = new OverrideDirectory(directory, store, (tenant) =>
      selfServiceOf(
        config,
        config.tenants.find((t) => t.id === tenant),
      ),
    );
  }
  return {
    config,
    directory,
    resolver: new PolicyResolver(config, registry.all(), directory),
    intake: {
      maxMessageBytes: config.limits.message_bytes,
      maxHeaderBytes: config.limits.header_bytes,
      spoolMemoryBytes: config.spool.memory_bytes,
      spoolDir: config.spool.dir,
      maxTextChars: 2 * 1024 * 1024,
      maxLineBytes: config.limits.line_bytes,
      nulBytes: config.limits.nul_bytes,
    },
  };
}
