// HTTP routes of the cluster (loopback callers only, like /api/directory/flush, until the
// console's authentication fronts them): GET /api/cluster/nodes, GET /api/cluster/revisions,
// POST /api/cluster/revisions {role, text, note?, author?}, POST /api/cluster/rollback {rev};
// shadow runs: GET/POST /api/cluster/shadows, GET /api/cluster/shadows/:id (with its report),
// POST /api/cluster/shadows/:id/publish and /discard.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Runtime } from "../runtime.ts";
import { ConfigError, formatIssue } from "../config/errors.ts";
import {
  ClusterError,
  discardShadow,
  publishRevision,
  publishShadow,
  rollbackTo,
  startShadowRun,
} from "./publish.ts";
import type { ConfigRevision } from "../store/types.ts";

const problem = (reply: FastifyReply, status: number, title: string, extra: Record<string, unknown> = {}) =>
  reply
    .code(status)
    .type("application/problem+json")
    .send({ type: "about:blank", title, status, ...extra });

function isLoopback(ip: string | undefined): boolean {
  return !!ip && (ip === "::1" || /^(::ffff:)?127\./.test(ip));
}

const summary = (r: ConfigRevision) => ({
  rev: r.rev,
  role: r.role,
  author: r.author,
  note: r.note,
  rollbackOf: r.rollbackOf,
  createdAt: r.createdAt.toISOString(),
});

export function registerClusterRoutes(app: FastifyInstance, runtime: Runtime): void {
  const guard = async (req: FastifyRequest, reply: FastifyReply) => {
    if (!isLoopback(req.socket.remoteAddress)) return problem(reply, 403, "loopback only");
    if (!runtime.store) return problem(reply, 503, "no store configured");
  };
  const failed = (reply: FastifyReply, err: unknown) => {
    if (err instanceof ConfigError) {
      return problem(reply, 422, "revision refused", { issues: err.issues.map(formatIssue) });
    }
    if (err instanceof ClusterError) return problem(reply, 400, "bad request", { detail: err.message });
    runtime.log.error({ err: (err as Error).message }, "cluster API: store error");
    return problem(reply, 503, "store unavailable");
  };

  app.get("/api/cluster/nodes", { preHandler: guard }, async (_req, reply) => {
    try {
      const nodes = await runtime.store!.listHeartbeats();
      const now = Date.now();
      return nodes.map((n) => ({
        ...n,
        startedAt: n.startedAt.toISOString(),
        seenAt: n.seenAt.toISOString(),
        uptimeS: Math.round((n.seenAt.getTime() - n.startedAt.getTime()) / 1000),
        seenAgoS: Math.round((now - n.seenAt.getTime()) / 1000),
      }));
    } catch (err) {
      return failed(reply, err);
    }
  });

  app.get<{ Querystring: { role?: string; limit?: string } }>(
    "/api/cluster/revisions",
    { preHandler: guard },
    async (req, reply) => {
      try {
        const revs = await runtime.store!.listConfigRevisions({
          role: req.query.role,
          limit: req.query.limit ? Math.min(Number(req.query.limit) || 100, 1000) : 100,
        });
        return revs.map(summary);
      } catch (err) {
        return failed(reply, err);
      }
    },
  );

  app.post<{ Body: { role?: unknown; text?: unknown; note?: unknown; author?: unknown } | null }>(
    "/api/cluster/revisions",
    { preHandler: guard },
    async (req, reply) => {
      const b = req.body ?? {};
      if (typeof b.role !== "string" || typeof b.text !== "string") {
        return problem(reply, 400, "bad request", { detail: "role and text (YAML) are required strings" });
      }
      try {
        const r = await publishRevision(runtime.store!, runtime.registry, {
          role: b.role,
          text: b.text,
          note: typeof b.note === "string" ? b.note : null,
          author: typeof b.author === "string" ? b.author : "api",
        });
        return reply.code(201).send(summary(r));
      } catch (err) {
        return failed(reply, err);
      }
    },
  );

  app.post<{ Body: { rev?: unknown; author?: unknown } | null }>(
    "/api/cluster/rollback",
    { preHandler: guard },
    async (req, reply) => {
      const rev = req.body?.rev;
      if (typeof rev !== "number" || !Number.isInteger(rev)) {
        return problem(reply, 400, "bad request", { detail: "rev must be an integer" });
      }
      try {
        const author = typeof req.body?.author === "string" ? req.body.author : "api";
        return reply.code(201).send(summary(await rollbackTo(runtime.store!, runtime.registry, rev, author)));
      } catch (err) {
        return failed(reply, err);
      }
    },
  );

  app.get("/api/cluster/shadows", { preHandler: guard }, async (_req, reply) => {
    try {
      return (await runtime.store!.listShadows({})).map(({ text: _t, ...r }) => r);
    } catch (err) {
      return failed(reply, err);
    }
  });

  app.get<{ Params: { id: string } }>(
    "/api/cluster/shadows/:id",
    { preHandler: guard },
    async (req, reply) => {
      try {
        const run = await runtime.store!.getShadow(Number(req.params.id));
        if (!run) return problem(reply, 404, "no such shadow run");
        return { ...run, report: await runtime.store!.shadowReport(run.id) };
      } catch (err) {
        return failed(reply, err);
      }
    },
  );

  app.post<{
    Body: { role?: unknown; text?: unknown; nodes?: unknown; note?: unknown; author?: unknown } | null;
  }>("/api/cluster/shadows", { preHandler: guard }, async (req, reply) => {
    const b = req.body ?? {};
    const nodes = b.nodes ?? [];
    if (
      typeof b.role !== "string" ||
      typeof b.text !== "string" ||
      !Array.isArray(nodes) ||
      !nodes.every((n) => typeof n === "string")
    ) {
      return problem(reply, 400, "bad request", {
        detail: "role, text (YAML) and nodes (names) are required",
      });
    }
    try {
      const run = await startShadowRun(runtime.store!, runtime.registry, {
        role: b.role,
        text: b.text,
        nodes: nodes as string[],
        note: typeof b.note === "string" ? b.note : null,
        author: typeof b.author === "string" ? b.author : "api",
      });
      return reply.code(201).send({ id: run.id, role: run.role, nodes: run.nodes, state: run.state });
    } catch (err) {
      return failed(reply, err);
    }
  });

  app.post<{ Params: { id: string; action: string } }>(
    "/api/cluster/shadows/:id/:action",
    { preHandler: guard },
    async (req, reply) => {
      const id = Number(req.params.id);
      try {
        if (req.params.action === "publish") {
          return reply
            .code(201)
            .send(summary(await publishShadow(runtime.store!, runtime.registry, id, "api")));
        }
        if (req.params.action === "discard") {
          await discardShadow(runtime.store!, id);
          return { id, state: "discarded" };
        }
        return problem(reply, 404, "unknown action (publish or discard)");
      } catch (err) {
        return failed(reply, err);
      }
    },
  );
}
