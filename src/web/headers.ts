// One set of security headers on every response of the web port — API answers, errors,
// 404s, malformed URLs, static assets, /healthz and /metrics alike. Pages that need a looser
// CSP (the console's index.html, static.ts) set their own first; nothing may frame us.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { problemBody } from "./problem.ts";

const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

function apply(req: FastifyRequest, reply: FastifyReply, hsts: boolean): void {
  reply.header("x-content-type-options", "nosniff");
  reply.header("x-frame-options", "DENY");
  reply.header("referrer-policy", "no-referrer");
  reply.header("cross-origin-opener-policy", "same-origin");
  reply.header("cross-origin-resource-policy", "same-origin");
  if (!reply.hasHeader("content-security-policy")) reply.header("content-security-policy", API_CSP);
  if (hsts || req.protocol === "https")
    reply.header("strict-transport-security", "max-age=31536000; includeSubDomains");
}

export function securityHeaders(app: FastifyInstance, opts: { hsts: boolean }): void {
  app.addHook("onSend", async (req, reply) => apply(req, reply, opts.hsts));
}

/**
 * Fastify's answer to requests it cannot route at all (a malformed URL): no hooks run for
 * those, so the headers and the problem+json body are set here.
 */
export function frameworkErrors(opts: { hsts: boolean }) {
  return (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    apply(req, reply, opts.hsts);
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
    reply
      .code(status)
      .type("application/problem+json")
      .send(problemBody(status, status === 400 ? "malformed URL" : "bad request"));
  };
}
