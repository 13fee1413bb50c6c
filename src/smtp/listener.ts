// The SMTP listeners (inbound MX, submission with STARTTLS, submissions with implicit TLS):
// accept connections, enforce per-address and total connection limits, and hand each one
// to an SmtpConnection. Closing stops accepting and lets sessions in flight finish.
import { readFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { Server as TlsServer, type TLSSocket } from "node:tls";
import type { Logger } from "pino";
import type { Runtime } from "../runtime.ts";
import { AuthLimiter } from "./auth.ts";
import { SmtpConnection, type ListenerContext, type ListenerKind } from "./connection.ts";
import { Routes } from "../delivery/nexthop/route.ts";
import type { TlsMaterial } from "./tls.ts";
import { smtpSessionMetrics } from "./session-metrics.ts";
import { Pregreet } from "./pregreet.ts";

export interface SmtpListeners {
  addresses: Record<string, string>;
  /** A renewed certificate: new STARTTLS and port-465 handshakes use it (SIGHUP). */
  reloadTls(t: TlsMaterial): void;
  close(): Promise<void>;
}

export async function startSmtpListeners(
  runtime: Runtime,
  tls: TlsMaterial | null,
  log: Logger,
): Promise<SmtpListeners> {
  const smtp = runtime.config.smtp;
  const limiter = new AuthLimiter({
    failureDelayMs: smtp.auth.failure_delay_ms,
    maxFailures: smtp.auth.max_failures,
    windowMs: smtp.auth.window_s * 1000,
  });
  const routes = new Routes(smtp.hostname, smtp.limits.next_hop_timeout_s * 1000, runtime.metrics.registry);
  const pregreet = new Pregreet(runtime.metrics.registry);
  const perIp = new Map<string, number>();
  const sessions = smtpSessionMetrics(runtime.metrics.registry);
  let total = 0;
  const servers: Server[] = [];
  const live = new Set<Socket>();
  const addresses: Record<string, string> = {};

  for (const kind of ["inbound", "submission", "submissions"] as ListenerKind[]) {
    const cfg = smtp.listeners[kind];
    if (!cfg.enabled) continue;
    const implicit = kind === "submissions";
    if (implicit && !tls) throw new Error("submissions (implicit TLS) needs a certificate");
    const ctx = (): ListenerContext => ({
      kind,
      runtime,
      tls: tls?.context ?? null,
      implicitTls: implicit,
      proxyProtocol: cfg.proxy_protocol,
      allowInsecureAuth: cfg.allow_insecure_auth,
      limiter,
      routes,
      smtp: runtime.config.smtp,
      log,
      pregreet,
      replied: (code) => sessions.replied(kind, code),
    });
    const onSocket = (socket: Socket) => {
      const ip = socket.remoteAddress ?? "?";
      const n = (perIp.get(ip) ?? 0) + 1;
      socket.on("error", () => undefined);
      if (total >= smtp.limits.max_connections || n > smtp.limits.max_connections_per_ip) {
        sessions.refused(kind);
        socket.end("421 4.7.0 Too many connections, try again later\r\n");
        setTimeout(() => socket.destroy(), 1000).unref();
        log.warn({ listener: kind, client: ip }, "connection refused: limit reached");
        return;
      }
      perIp.set(ip, n);
      total++;
      live.add(socket);
      sessions.opened(kind);
      socket.once("close", () => {
        sessions.closed(kind);
        total--;
        live.delete(socket);
        const left = (perIp.get(ip) ?? 1) - 1;
        if (left <= 0) perIp.delete(ip);
        else perIp.set(ip, left);
      });
      void new SmtpConnection(socket, ctx()).run();
    };
    const server: Server = implicit
      ? new TlsServer(
          { key: readFileSync(tls!.key), cert: readFileSync(tls!.cert), minVersion: "TLSv1.2" },
          (s: TLSSocket) => onSocket(s as unknown as Socket),
        )
      : createServer(onSocket);
    if (implicit) server.on("tlsClientError", (err) => log.debug({ err: err.message }, "TLS client error"));
    const i = cfg.listen.lastIndexOf(":");
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(Number(cfg.listen.slice(i + 1)), cfg.listen.slice(0, i).replace(/^\[|\]$/g, ""), () =>
        resolve(),
      );
    });
    const a = server.address() as { address: string; port: number };
    addresses[kind] = `${a.address}:${a.port}`;
    servers.push(server);
  }
  return {
    addresses,
    reloadTls(t: TlsMaterial) {
      tls = t; // read by ctx() for each new connection (STARTTLS)
      for (const s of servers) {
        if (s instanceof TlsServer) {
          s.setSecureContext({ key: readFileSync(t.key), cert: readFileSync(t.cert), minVersion: "TLSv1.2" });
        }
      }
    },
    async close() {
      await Promise.all(servers.map((s) => new Promise((res) => s.close(res))));
      // Give sessions in flight a moment, then cut what is left.
      const deadline = Date.now() + 5000;
      while (live.size && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
      for (const s of live) s.destroy();
    },
  };
}
