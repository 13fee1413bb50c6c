// Login, logout and "who am I": the only routes reachable without a session (besides the
// OpenAPI document). Failed logins are throttled per address and per login (429).
import type { FastifyInstance } from "fastify";
import { checkLogin } from "../auth/login.ts";
import { requireAuth } from "../auth/principal.ts";
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
      const { login, password } = req.body;
      const ip = req.socket.remoteAddress ?? "?";
      const wait = ctx.limiter.retryAfter(ip, login);
      if (wait > 0) {
        reply.header("retry-after", String(wait));
        throw new HttpProblem(429, "too many failed logins", `try again in ${wait} s`);
      }
      const who = await checkLogin(ctx.runtime, login.trim(), password);
      if (!who) {
        ctx.limiter.fail(ip, login);
        throw new HttpProblem(401, "wrong login or password");
      }
      ctx.limiter.succeed(login);
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

  app.get(
    "/api/auth/me",
    { schema: { summary: "The logged-in principal and its CSRF token", tags: ["auth"] } },
    async (req) => {
      const p = requireAuth(req);
      return { subject: p.subject, role: p.role, tenant: p.tenant, csrf: p.csrf };
    },
  );
}
