// Login, logout and "who am I": the only routes reachable without a session (besides the
// OpenAPI document). Failed logins are throttled per (login, client address) and per address
// with growing waits (429 + Retry-After), never a lock (src/policy/login-throttle.ts).
import type { FastifyInstance } from "fastify";
import { normalizeLogin } from "../../policy/login-throttle.ts";
import { checkLogin } from "../auth/login.ts";
import { requireAuth } from "../auth/principal.ts";
import { revokeSessions } from "../auth/revoke.ts";
import { closeSession, openSession } from "../auth/session.ts";
import { HttpProblem } from "../problem.ts";
import type { ApiContext } from "./context.ts";
import { obj, str } from "./schema.ts";

export function authRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Body: { login: string; password: string } }>(
    "/api/auth/login",
    {
      schema: {
        summary: "Log in (console account or directory user); sets the session cookie",
        tags: ["auth"],
        body: obj({ login: str({ minLength: 1, maxLength: 320 }), password: str({ maxLength: 1024 }) }, [
          "login",
          "password",
        ]),
      },
    },
    async (req, reply) => {
      // One normal form for throttling and checking alike (" op3" is op3).
      const login = normalizeLogin(req.body.login);
      // The client's address: the socket's, or X-Forwarded-For from a web.trusted_proxies hop.
      const ip = req.ip;
      const wait = await ctx.limiter.waitMs(ip, login);
      if (wait > 0) {
        const s = Math.ceil(wait / 1000);
        reply.header("retry-after", String(s));
        throw new HttpProblem(429, "too many failed logins", `try again in ${s} s`);
      }
      const who = await checkLogin(ctx.runtime, login, req.body.password);
      if (!who) {
        const { waitMs } = await ctx.limiter.fail(ip, login);
        if (waitMs > 0) reply.header("retry-after", String(Math.ceil(waitMs / 1000)));
        throw new HttpProblem(401, "wrong login or password");
      }
      await ctx.limiter.succeed(ip, login);
      const p = await openSession(ctx.store, reply, who);
      return { subject: p.subject, role: p.role, tenant: p.tenant, csrf: p.csrf };
    },
  );

  app.post(
    "/api/auth/logout",
    { schema: { summary: "End the session", tags: ["auth"] } },
    async (req, reply) => {
      await closeSession(ctx.store, reply, requireAuth(req));
      return { ok: true };
    },
  );

  app.post(
    "/api/auth/logout-everywhere",
    {
      schema: {
        summary: "End every session of the logged-in account or user, on every node",
        tags: ["auth"],
      },
    },
    async (req, reply) => {
      const p = requireAuth(req);
      await revokeSessions(ctx.store, p.subject);
      await closeSession(ctx.store, reply, p);
      await ctx.audit(p, "session.revoke", p.subject, p.tenant, null, { by: "self" });
      return { ok: true };
    },
  );

  app.get(
    "/api/auth/me",
    { schema: { summary: "The logged-in principal and its CSRF token", tags: ["auth"] } },
    async (req) => {
      const p = requireAuth(req);
      return { subject: p.subject, role: p.role, tenant: p.tenant, csrf: p.csrf };
    },
  );
}
