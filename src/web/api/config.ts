// Configuration revisions and shadow runs through the console (operators only): read the
// history and a revision's text (secrets shown as "[redacted]", kept on publish), publish a
// new revision (validated completely first; 422 lists every issue with its line and path),
// roll back, run a candidate in shadow and publish or discard it. Each node's agent applies
// what is published (src/cluster/). Every change is audited with the operator as author.
import type { FastifyInstance } from "fastify";
import { ConfigError, formatIssue } from "../../config/errors.ts";
import { redactConfigText } from "../../config/redact.ts";
import {
  ClusterError,
  discardShadow,
  publishRevision,
  publishShadow,
  rollbackTo,
  startShadowRun,
} from "../../cluster/publish.ts";
import type { ConfigRevision, ShadowRun } from "../../store/types.ts";
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

const shadowSummary = ({ text: _t, ...r }: ShadowRun) => r;

const idParams = obj({ id: str({ pattern: "^[0-9]{1,12}$" }) }, ["id"]);

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
  const author = (subject: string) => `console:${subject}`;

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
        summary: "One revision with its YAML text (secrets as [redacted]; publishing keeps them)",
        tags: ["config"],
        params: obj({ rev: str({ pattern: "^[0-9]{1,12}$" }) }, ["rev"]),
      },
    },
    async (req) => {
      requireRole(req, "operator");
      const r = await ctx.store.getConfigRevision(Number(req.params.rev));
      if (!r) throw notFound("no such revision");
      return { ...summary(r), text: redactConfigText(r.text) };
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
        author: author(p.subject),
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
      const r = await rollbackTo(ctx.store, ctx.runtime.registry, req.body.rev, author(p.subject)).catch(
        refused,
      );
      await ctx.audit(p, "config.rollback", `role:${r.role}`, null, { to: req.body.rev }, { rev: r.rev });
      return summary(r);
    },
  );

  // ---- shadow runs: a candidate evaluated beside the live revision on chosen nodes ----

  app.get(
    "/api/config/shadows",
    { schema: { summary: "Shadow runs, newest first", tags: ["config"] } },
    async (req) => {
      requireRole(req, "operator");
      return { shadows: (await ctx.store.listShadows({})).map(shadowSummary) };
    },
  );

  app.get<{ Params: { id: string } }>(
    "/api/config/shadows/:id",
    {
      schema: {
        summary: "One shadow run with its candidate (secrets redacted) and its report",
        tags: ["config"],
        params: idParams,
      },
    },
    async (req) => {
      requireRole(req, "operator");
      const run = await ctx.store.getShadow(Number(req.params.id));
      if (!run) throw notFound("no such shadow run");
      return { ...run, text: redactConfigText(run.text), report: await ctx.store.shadowReport(run.id) };
    },
  );

  app.post<{ Body: { role: string; text: string; nodes?: string[]; note?: string } }>(
    "/api/config/shadows",
    {
      schema: {
        summary: "Validate a candidate and run it in shadow on some nodes (default: all of the role)",
        tags: ["config"],
        body: obj(
          {
            role: str({ maxLength: 63 }),
            text: str({ maxLength: 5_000_000 }),
            nodes: { type: "array", items: str({ minLength: 1, maxLength: 253 }), maxItems: 1000 },
            note: str({ maxLength: 500 }),
          },
          ["role", "text"],
        ),
      },
    },
    async (req) => {
      const p = requireRole(req, "operator");
      const run = await startShadowRun(ctx.store, ctx.runtime.registry, {
        role: req.body.role,
        text: req.body.text,
        nodes: req.body.nodes ?? [],
        note: req.body.note ?? null,
        author: author(p.subject),
      }).catch(refused);
      await ctx.audit(p, "config.shadow.start", `shadow:${run.id}`, null, null, {
        role: run.role,
        nodes: run.nodes,
        text: run.text,
        note: run.note,
      });
      return { id: run.id, role: run.role, nodes: run.nodes, state: run.state };
    },
  );

  app.post<{ Params: { id: string } }>(
    "/api/config/shadows/:id/publish",
    {
      schema: {
        summary: "Publish a shadow candidate as its role's new revision",
        tags: ["config"],
        params: idParams,
      },
    },
    async (req) => {
      const p = requireRole(req, "operator");
      const id = Number(req.params.id);
      const r = await publishShadow(ctx.store, ctx.runtime.registry, id, author(p.subject)).catch(refused);
      await ctx.audit(p, "config.shadow.publish", `shadow:${id}`, null, null, { rev: r.rev, role: r.role });
      return summary(r);
    },
  );

  app.post<{ Params: { id: string } }>(
    "/api/config/shadows/:id/discard",
    {
      schema: { summary: "End a shadow run without publishing", tags: ["config"], params: idParams },
    },
    async (req) => {
      const p = requireRole(req, "operator");
      const id = Number(req.params.id);
      await discardShadow(ctx.store, id).catch(refused);
      await ctx.audit(p, "config.shadow.discard", `shadow:${id}`, null, null, { state: "discarded" });
      return { id, state: "discarded" };
    },
  );
}
