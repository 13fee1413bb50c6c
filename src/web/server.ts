// The HTTP side of a node: /healthz and Prometheus /metrics now; the API and console
// (web issue) are added here as routes. Fastify, bound to the configured web address.
import Fastify, { type FastifyInstance } from "fastify";
import type { Runtime } from "../runtime.ts";
import { CachedDirectory } from "../policy/cached-directory.ts";
import { registerConsole } from "./api/index.ts";
import { registerClusterRoutes } from "../cluster/api.ts";

export async function startWeb(runtime: Runtime, listen: string): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  registerConsole(app, runtime); // console API + assets (src/web/api/); first, for the OpenAPI document
  registerClusterRoutes(app, runtime); // /api/cluster/{nodes,revisions,rollback}: loopback only
  app.get("/healthz", async () => ({
    config: runtime.source,
    store: runtime.store ? "open" : "none",
    ...runtime.health(),
  }));
  app.get("/metrics", async (_req, reply) => {
    reply.header("content-type", runtime.metrics.registry.contentType);
    return runtime.metrics.registry.metrics();
  });
  // Operator action for `sluice directory flush`: local callers only (no API auth exists yet).
  app.post<{ Body: { address?: unknown } | null }>("/api/directory/flush", async (req, reply) => {
    if (!isLoopback(req.socket.remoteAddress)) {
      return reply.code(403).type("application/problem+json").send({ title: "loopback only", status: 403 });
    }
    const address = req.body?.address;
    if (address !== undefined && (typeof address !== "string" || !address.includes("@"))) {
      return reply
        .code(400)
        .type("application/problem+json")
        .send({ title: "address must be a mail address", status: 400 });
    }
    const d = runtime.directory;
    if (!(d instanceof CachedDirectory)) return { cached: false, flushed: 0 };
    return { cached: true, flushed: d.flush(address) };
  });
  const i = listen.lastIndexOf(":");
  await app.listen({ host: listen.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(listen.slice(i + 1)) });
  return app;
}

function isLoopback(ip: string | undefined): boolean {
  return !!ip && (ip === "::1" || /^(::ffff:)?127\./.test(ip));
}
