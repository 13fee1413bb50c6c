// The milter server: listens on inet or unix sockets and runs one MilterConnection per MTA
// connection. Owns no mail logic; the Session, storage and re-injection come from the caller.
// Implements the Sendmail/Postfix milter protocol v6 (see ./README.md).
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { existsSync, unlinkSync } from "node:fs";
import type { Logger } from "pino";
import type { Session } from "../pipeline/session.ts";
import type { Ingress } from "../message/envelope.ts";
import type { QuarantineMode } from "./actions.ts";
import { MilterConnection, type AfterCommit, type CommitCopies } from "./connection.ts";
import { DEFAULT_WANTED, type Wanted } from "./negotiation.ts";
import { SocketSpecError } from "./errors.ts";
import { ProgressTicker } from "./progress.ts";
import { MilterMetrics } from "./metrics.ts";
import type { Registry } from "prom-client";

export interface MilterServerOptions {
  /** One Session per SMTP connection the MTA reports (CONNECT … QUIT/QUIT_NC). */
  newSession: () => Session;
  /**
   * Store the quarantined and held copies and send the other delivery groups on (re-injection);
   * a throw makes the message tempfail. Usually delivery/reinject.ts's commitExtraCopies.
   */
  commit: CommitCopies;
  logger: Logger;
  /** PROGRESS keep-alive interval while the MTA waits for a reply; 0 disables. Default 5000. */
  progressIntervalMs?: number;
  /** "mta": a wholly quarantined message goes to the MTA's hold queue (SMFIR_QUARANTINE). */
  quarantineMode?: QuarantineMode;
  /** Our host name when the MTA sends no `j` macro. */
  localName?: string;
  /**
   * What to negotiate with each new MTA connection; a function is asked at every OPTNEG, so a
   * new configuration revision applies to the connections opened after it (start.ts derives it
   * from the configuration: only the stages the policy may refuse wait for replies). Default:
   * every envelope stage is answered.
   */
  wanted?: Wanted | (() => Wanted);
  /**
   * The MTA listener ({daemon_name} macro) decides the ingress the pipeline sees, so that one
   * Postfix can run inbound and submission through the same milter, e.g.
   * `{ submission: "submission", smtps: "submissions" }`. Unlisted listeners are "milter".
   */
  daemonIngress?: Readonly<Record<string, Ingress>>;
  /**
   * Trace headers (Authentication-Results, Received, ARC-*, DKIM-Signature) go on top with
   * SMFIR_INSHEADER index 0, where relays put them; false appends them like any header. Default true.
   */
  prependTraceHeaders?: boolean;
  /** How long close() waits for messages in flight before cutting connections. Default 30000. */
  closeTimeoutMs?: number;
  /**
   * Work once a message is committed (accepted end of message: CONTINUE with its modifications,
   * DISCARD after storing, or QUARANTINE): started after the final reply is written, so it never
   * delays or changes it, e.g. notifications. The Session has been reset by then: the
   * transaction's envelope and headers remain, its spool may not. A throw is logged only.
   * close() waits for the calls in flight (within closeTimeoutMs).
   */
  afterCommit?: AfterCommit;
  /**
   * The node's metrics registry: sluice_milter_commands_total{command} and
   * sluice_milter_answer_duration_seconds{command}. None: not counted.
   */
  metrics?: Registry;
}

export interface ListenAddress {
  spec: string;
  port: number | null;
}

/** "inet:HOST:PORT", "inet:PORT@HOST" (sendmail style), "inet6:[::1]:PORT" or "unix:/path". */
export function parseSocketSpec(spec: string): { host: string; port: number } | { path: string } {
  const m = /^(unix|local|inet6?):(.+)$/.exec(spec);
  if (!m) throw new SocketSpecError(spec, "expected inet:HOST:PORT, inet:PORT@HOST or unix:/path");
  const [, kind, rest] = m as unknown as [string, string, string];
  if (kind === "unix" || kind === "local") return { path: rest };
  const at = /^(\d+)@(.+)$/.exec(rest);
  const colon = /^\[?(.*?)\]?:(\d+)$/.exec(rest);
  const host = at ? at[2] : colon?.[1];
  const port = Number(at ? at[1] : colon?.[2]);
  if (!host || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new SocketSpecError(spec, "bad host or port");
  }
  return { host, port };
}

export class MilterServer {
  private readonly opts: MilterServerOptions;
  private readonly servers: Server[] = [];
  private readonly connections = new Set<MilterConnection>();
  private readonly sockets = new Set<Socket>();
  private readonly afterCommits = new Set<Promise<void>>();
  private readonly progress: ProgressTicker | null;
  private readonly metrics: MilterMetrics | undefined;

  constructor(opts: MilterServerOptions) {
    this.opts = opts;
    this.metrics = opts.metrics ? new MilterMetrics(opts.metrics) : undefined;
    const interval = opts.progressIntervalMs ?? 5000;
    this.progress = interval > 0 ? new ProgressTicker(interval) : null;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async listen(spec: string): Promise<ListenAddress> {
    const target = parseSocketSpec(spec);
    const server = createServer((socket) => this.accept(socket));
    if ("path" in target) await removeStaleSocket(target.path);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      if ("path" in target) server.listen(target.path, resolve);
      else server.listen(target.port, target.host, resolve);
    });
    server.on("error", (err) => this.opts.logger.error({ err, spec }, "milter listener error"));
    this.servers.push(server);
    const addr = server.address();
    if (addr && typeof addr === "object") {
      const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
      const out = { spec: `inet:${host}:${addr.port}`, port: addr.port };
      this.opts.logger.info({ listen: out.spec }, "milter listening");
      return out;
    }
    this.opts.logger.info({ listen: spec }, "milter listening");
    return { spec, port: null };
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    const wanted = this.opts.wanted;
    const conn = new MilterConnection(socket, {
      newSession: this.opts.newSession,
      commit: this.opts.commit,
      logger: this.opts.logger,
      progress: this.progress,
      quarantineMode: this.opts.quarantineMode ?? "store",
      wanted: typeof wanted === "function" ? wanted : () => wanted ?? DEFAULT_WANTED,
      localName: this.opts.localName ?? "localhost",
      daemonIngress: this.opts.daemonIngress ?? {},
      prependTraceHeaders: this.opts.prependTraceHeaders ?? true,
      afterCommit: this.opts.afterCommit ? (...a) => this.track(...a) : undefined,
      metrics: this.metrics,
    });
    this.connections.add(conn);
    this.sockets.add(socket);
    void conn.done.then(() => {
      this.connections.delete(conn);
      this.sockets.delete(socket);
    });
  }

  private track(...args: Parameters<AfterCommit>): Promise<void> {
    const p = this.opts.afterCommit!(...args).finally(() => this.afterCommits.delete(p));
    this.afterCommits.add(p);
    return p;
  }

  /** Stop listening, let messages in flight finish, then close every MTA connection. */
  async close(): Promise<void> {
    // net.Server.close() only calls back once every connection is gone, so do not wait for it here.
    const stopped = Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.servers.length = 0;
    for (const c of this.connections) c.drain();
    // Connections first: a message finishing now may still start after-commit work.
    const all = Promise.all([...this.connections].map((c) => c.done)).then(() =>
      Promise.allSettled([...this.afterCommits]),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">(
      (r) => (timer = setTimeout(() => r("timeout"), this.opts.closeTimeoutMs ?? 30000)),
    );
    const outcome = await Promise.race([all, timeout]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      this.opts.logger.warn({ open: this.connections.size }, "milter close timed out, cutting connections");
      for (const s of this.sockets) s.destroy();
      await all;
    }
    await stopped;
    this.progress?.close();
  }
}

/** A leftover socket file from a crashed run blocks listen(); a live one belongs to someone else. */
async function removeStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  const live = await new Promise<boolean>((resolve) => {
    const c = createConnection(path);
    c.once("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });
  if (live) throw new SocketSpecError(`unix:${path}`, "in use by another process");
  unlinkSync(path);
}
