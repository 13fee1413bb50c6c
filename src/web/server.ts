// The HTTP side of a node: /healthz, Prometheus /metrics, the console API and the console
// (src/web/api/). Fastify on web.listen, HTTPS when web.tls is set; client addresses from
// X-Forwarded-For only when the peer is one of web.trusted_proxies; Host checked (web.hosts).
import { readFileSync } from "node:fs";
import Fastify, { type FastifyInstance } from "fastify";
import { ConfigError } from "../config/errors.ts";
import type { WebConfig } from "../config/web.ts";
import type { Runtime } from "../runtime.ts";
import { registerConsole, type ConsoleOptions } from "./api/index.ts";
import { frameworkErrors, securityHeaders } from "./headers.ts";
import { allowedHosts, hostCheck } from "./hosts.ts";

export async function startWeb(
  runtime: Runtime,
  listen: string = runtime.config.web.listen,
  opts: ConsoleOptions = {},
): Promise<FastifyInstance> {
  const web = runtime.config.web;
  const app = Fastify({
    logger: false,
    // proxy-addr semantics: the rightmost X-Forwarded-For hop not in the list is the client.
    trustProxy: web.trusted_proxies.length ? web.trusted_proxies : false,
    ...(web.tls ? { https: readTls(web, runtime.source) } : {}),
    frameworkErrors: frameworkErrors({ hsts: !!web.tls }),
  }) as unknown as FastifyInstance;
  securityHeaders(app, { hsts: !!web.tls });
  app.addHook("onRequest", hostCheck(allowedHosts(web)));
  registerConsole(app, runtime, opts); // console API + assets (src/web/api/); first, for the OpenAPI document
  // Readiness (src/cli/readiness.ts): 503 while a dependency down makes every message tempfail.
  app.get("/healthz", async (_req, reply) => {
    const h = { store: runtime.store ? "open" : "none", ...runtime.health() };
    const notReady = (h as { readiness?: { ready?: boolean } }).readiness?.ready === false;
    if (notReady) reply.code(503);
    return notReady ? { ...h, status: "down" } : h;
  });
  // Liveness: the process answers (for restarts), whatever its dependencies do.
  app.get("/livez", async () => ({ status: "alive", uptime_s: Math.round(process.uptime()) }));
  app.get("/metrics", async (_req, reply) => {
    reply.header("content-type", runtime.metrics.registry.contentType);
    return runtime.metrics.registry.metrics();
  });
  const i = listen.lastIndexOf(":");
  await app.listen({ host: listen.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(listen.slice(i + 1)) });
  return app;
}

function readTls(web: WebConfig, source: string): { cert: Buffer; key: Buffer } {
  const read = (what: "cert" | "key") => {
    try {
      return readFileSync(web.tls![what]);
    } catch (err) {
      throw new ConfigError([
        {
          file: source,
          line: null,
          path: `web.tls.${what}`,
          message: `cannot read ${web.tls![what]}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        },
      ]);
    }
  };
  return { cert: read("cert"), key: read("key") };
}
