// Configuration revisions through the console (operators only): read the history and the
// newest text of a role, publish a new revision (validated completely first; 422 lists every
// issue with its line and path), roll back. Tenants, domains, policy and templates change this
// way; each node's agent applies what is published (src/cluster/).
import type { FastifyInstance } from "fastify";
import { ConfigError, formatIssue } from "../../config/errors.ts";
import { ClusterError, publishRevision, rollbackTo } from "../../cluster/publish.ts";
import type { ConfigRevision } from "../../store/types.ts";
import { requireRole } from "../auth/principal.ts";
import { badRequest, HttpProblem, notFound } from "../problem.ts";
import type { ApiContext } from "./context.ts";
import { int, obj, str } from "./schema.ts";

const summary = (r: ConfigRevision) => ({
  rev: r.rev,
  role: r.role,
  author: r.author,
  note: r.note,
  rollbackOf: r.rollbackOf,
  createdAt: r.createdAt,
});

export function configRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const refused = (err: unknown): never => {
    if (err instanceof ConfigError) {
      throw new HttpProblem(422, "revision refused", `${err.issues.length} issue(s)`, {
        issues: err.issues.map(formatIssue),
      });
    }
    if (err instanceof ClusterError) throw badRequest(err.message);
    throw err;
  };

  app.get<{ Querystring: { role?: string; limit?: number } }>(
    "/api/config/revisions",
    {
      schema: {
        summary: "Published configuration revisions, newest first",
        tags: ["config"],
        querystring: obj({ role: str({ maxLength: 63 }), limit: int(1, 1000) }),
      },
    },
    async (req) => {
      requireRole(req, "operator");
      const revs = await ctx.store.listConfigRevisions({
        role: req.query.role,
        limit: req.query.limit ?? 50,
      });
      return { nodeRole: ctx.runtime.config.node.role, revisions: revs.map(summary) };
    },
  );

  app.get<{ Params: { rev: string } }>(
    "/api/config/revisions/:rev",
    {
      schema: {
        summary: "One revision with its YAML text",
        tags: ["config"],
        params: obj({ rev: str({ pattern: "^[0-9]{1,12}$" }) }, ["rev"]),
      },
    },
    async (req) => {
      requireRole(req, "operator");
      const r = await ctx.store.getConfigRevision(Number(req.params.rev));
      if (!r) throw notFound("no such revision");
      return { ...summary(r), text: r.text };
    },
  );

  app.post<{ Body: { role: string; text: string; note?: string } }>(
    "/api/config/revisions",
    {
      schema: {
        summary: "Validate and publish a revision (policy, roles, tenants, directory, limits) for a role",
        tags: ["config"],
        body: obj(
          {
            role: str({ maxLength: 63 }),
            text: str({ maxLength: 5_000_000 }),
            note: str({ maxLength: 500 }),
          },
          ["role", "text"],
        ),
      },
    },
    async (req) => {
      const p = requireRole(req, "operator");
      const before = await ctx.store.latestConfigRevision(req.body.role);
      const r = await publishRevision(ctx.store, ctx.runtime.registry, {
        role: req.body.role,
        text: req.body.text,
        note: req.body.note ?? null,
        author: `console:${p.subject}`,
      }).catch(refused);
      await ctx.audit(
        p,
        "config.publish",
        `role:${r.role}`,
        null,
        before && { rev: before.rev, text: before.text },
        { rev: r.rev, text: r.text, note: r.note },
      );
      return summary(r);
    },
  );

  app.post<{ Body: { rev: number } }>(
    "/api/config/rollback",
    {
      schema: {
        summary: "Publish an earlier revision's text again as the newest of its role",
        tags: ["config"],
        body: obj({ rev: int(1, Number.MAX_SAFE_INTEGER) }, ["rev"]),
      },
    },
    async (req) => {
      const p = requireRole(req, "operator");
      const r = await rollbackTo(ctx.store, ctx.runtime.registry, req.body.rev, `console:${p.subject}`).catch(
        refused,
      );
      await ctx.audit(p, "config.rollback", `role:${r.role}`, null, { to: req.body.rev }, { rev: r.rev });
      return summary(r);
    },
  );
}
