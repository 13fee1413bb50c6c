// The HTTP side of a node: /healthz and Prometheus /metrics now; the API and console
// (web issue) are added here as routes. Fastify, bound to the configured web address.
import Fastify, { type FastifyInstance } from "fastify";
import type { Runtime } from "../runtime.ts";

export async function startWeb(runtime: Runtime, listen: string): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.get("/healthz", async () => ({
    status: "ok",
    config: runtime.source,
    store: runtime.store ? "open" : "none",
  }));
  app.get("/metrics", async (_req, reply) => {
    reply.header("content-type", runtime.metrics.registry.contentType);
    return runtime.metrics.registry.metrics();
  });
  const i = listen.lastIndexOf(":");
  await app.listen({ host: listen.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(listen.slice(i + 1)) });
  return app;
}
