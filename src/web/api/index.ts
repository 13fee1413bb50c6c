// The console API and the console itself, registered on the node's web server: sessions and
// CSRF (auth/session.ts), problem+json errors, the OpenAPI document and every /api/ route
// module — the only API of the web port: every change needs a session, none trusts a source
// address. Call before any other route is added so the OpenAPI document sees them all.
import type { FastifyError, FastifyInstance } from "fastify";
import { createQuarantineOps, HoldError, ReleaseError, type QuarantineOps } from "../../quarantine/index.ts";
import type { Runtime } from "../../runtime.ts";
import { LoginThrottle, WEB_LOGIN_THROTTLE } from "../../policy/login-throttle.ts";
import { sessionHook } from "../auth/session.ts";
import { HttpProblem, problemBody } from "../problem.ts";
import { serveConsole } from "../static.ts";
import { adminRoutes } from "./admin.ts";
import { authRoutes } from "./auth.ts";
import { auditWriter, type ApiContext } from "./context.ts";
import { configRoutes } from "./config.ts";
import { dashboardRoutes } from "./dashboard.ts";
import { directoryRoutes } from "./directory.ts";
import { linkRoutes } from "./links.ts";
import { messageRoutes } from "./messages.ts";
import { collectOpenApi } from "./openapi.ts";
import { quarantineRoutes } from "./quarantine.ts";
import { spamRoutes } from "./spam.ts";
import { templateRoutes } from "./templates.ts";
import { filterOrderRoutes } from "./filter-order.ts";
import { toolRoutes } from "./tools.ts";
import { userRoutes } from "./users.ts";

export interface ConsoleOptions {
  quarantine?: QuarantineOps;
  limiter?: LoginThrottle;
  /** Built console assets (default web-dist/). */
  assetsDir?: string;
}

export function registerConsole(app: FastifyInstance, runtime: Runtime, opts: ConsoleOptions = {}): void {
  const openapi = collectOpenApi(app);
  app.decorateRequest("principal", null);
  app.setErrorHandler((err: FastifyError, req, reply) => {
    reply.type("application/problem+json").header("cache-control", "no-store");
    if (err instanceof HttpProblem)
      return reply.code(err.status).send(problemBody(err.status, err.title, err.extra));
    if (err.validation) {
      return reply.code(400).send(
        problemBody(400, "invalid request", {
          detail: err.message,
          errors: err.validation.map((v) => ({ path: v.instancePath, message: v.message })),
        }),
      );
    }
    if (err instanceof ReleaseError || err instanceof HoldError) {
      return reply.code(409).send(problemBody(409, "not possible now", { detail: err.message }));
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) runtime.log.error({ err, url: req.url }, "web API error");
    return reply.code(status).send(problemBody(status, status === 500 ? "internal error" : err.message));
  });
  app.addHook("onSend", async (req, reply) => {
    if (req.url.startsWith("/api/")) reply.header("cache-control", "no-store");
  });
  app.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .type("application/problem+json")
      .send(problemBody(404, "not found", { detail: `${req.method} ${req.url.split("?")[0]}` })),
  );
  app.get("/api/openapi.json", { schema: { summary: "This document", tags: ["meta"] } }, async () =>
    openapi(),
  );

  const store = runtime.store;
  if (!store) return;
  app.addHook(
    "onRequest",
    sessionHook(store, () => runtime.directory),
  );
  const ctx: ApiContext = {
    runtime,
    store,
    quarantine: opts.quarantine ?? createQuarantineOps(runtime),
    limiter: opts.limiter ?? new LoginThrottle(WEB_LOGIN_THROTTLE),
    audit: auditWriter(store),
  };
  authRoutes(app, ctx);
  quarantineRoutes(app, ctx);
  spamRoutes(app, ctx);
  messageRoutes(app, ctx);
  userRoutes(app, ctx);
  adminRoutes(app, ctx);
  toolRoutes(app, ctx);
  templateRoutes(app, ctx);
  filterOrderRoutes(app, ctx);
  dashboardRoutes(app, ctx);
  linkRoutes(app, ctx);
  configRoutes(app, ctx);
  directoryRoutes(app, ctx);
  serveConsole(app, opts.assetsDir);
}
