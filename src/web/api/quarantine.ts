// Quarantine routes: list, detail, safe preview, release (optionally learning as ham),
// delete, report as spam. Admins act within their tenant; end users only on their own
// recipient entry, and never release a message that carried a virus.
import type { FastifyInstance } from "fastify";
import type { QuarantineItem, QuarantineState } from "../../store/types.ts";
import { assertTenant, requireAuth, tenantFilter, type Principal } from "../auth/principal.ts";
import { forbidden, HttpProblem, notFound } from "../problem.ts";
import type { ApiContext } from "./context.ts";
import { previewMessage } from "./mail-preview.ts";
import { mayRelease, type Releaser } from "../../quarantine/index.ts";
import { bool, idParams, int, obj, recipientsBody, str } from "./schema.ts";

const STATES = ["quarantined", "released", "deleted", "expired"];

function releaser(p: Principal): Releaser {
  if (p.role === "operator") return { role: "operator" };
  if (p.role === "tenant_admin") return { role: "tenant_admin", tenant: p.tenant };
  return { role: "user", address: p.subject };
}

export function quarantineRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const load = async (p: Principal, id: string): Promise<QuarantineItem> => {
    const q = await ctx.store.getQuarantine(id);
    if (!q) throw notFound("no such quarantine entry");
    if (p.role === "user") {
      if (!q.recipients.some((r) => r.address === p.subject)) throw notFound("no such quarantine entry");
      return { ...q, recipients: q.recipients.filter((r) => r.address === p.subject) };
    }
    assertTenant(p, q.tenant, "no such quarantine entry");
    return q;
  };
  /** The recipients a principal may act on: an end user only ever themselves. */
  const targets = (p: Principal, q: QuarantineItem, asked?: string[]): string[] | "all" => {
    if (p.role === "user") {
      if (asked && asked.some((a) => a.toLowerCase() !== p.subject)) throw notFound("no such recipient");
      return [p.subject];
    }
    if (!asked) return "all";
    const known = new Set(q.recipients.map((r) => r.address));
    const bad = asked.filter((a) => !known.has(a.toLowerCase()));
    if (bad.length)
      throw new HttpProblem(404, "no such recipient", `not recipients of ${q.id}: ${bad.join(", ")}`);
    return asked;
  };
  const view = (q: QuarantineItem) => ({
    id: q.id,
    tenant: q.tenant,
    createdAt: q.createdAt,
    sender: q.envelope.mailFrom?.address ?? "",
    subject: q.subject,
    score: q.score,
    symbols: q.symbols,
    size: q.size,
    recipients: q.recipients,
  });

  app.get<{ Querystring: { state?: QuarantineState; recipient?: string; tenant?: string; limit?: number } }>(
    "/api/quarantine",
    {
      schema: {
        summary: "List quarantined messages (scoped to the caller)",
        tags: ["quarantine"],
        querystring: obj({
          state: str({ enum: STATES }),
          recipient: str({ maxLength: 320 }),
          tenant: str({ maxLength: 64 }),
          limit: int(1, 1000),
        }),
      },
    },
    async (req) => {
      const p = requireAuth(req);
      const q = req.query;
      const items =
        p.role === "user"
          ? await ctx.store.listQuarantine({ recipient: p.subject, state: q.state, limit: q.limit })
          : await ctx.store.listQuarantine({
              tenant: tenantFilter(p, q.tenant),
              recipient: q.recipient,
              state: q.state,
              limit: q.limit,
            });
      const own =
        p.role === "user"
          ? (i: QuarantineItem) => ({ ...i, recipients: i.recipients.filter((r) => r.address === p.subject) })
          : (i: QuarantineItem) => i;
      return { items: items.map(own).map(view) };
    },
  );

  app.get<{ Params: { id: string } }>(
    "/api/quarantine/:id",
    { schema: { summary: "One quarantine entry", tags: ["quarantine"], params: idParams } },
    async (req) => view(await load(requireAuth(req), req.params.id)),
  );

  app.get<{ Params: { id: string } }>(
    "/api/quarantine/:id/preview",
    {
      schema: {
        summary: "Safe preview: plain text and sanitised HTML (a CSP-locked document for a sandboxed iframe)",
        tags: ["quarantine"],
        params: idParams,
      },
    },
    async (req) => {
      const q = await load(requireAuth(req), req.params.id);
      const raw = await ctx.store.quarantineMessage(q.id);
      if (!raw) throw notFound("no such quarantine entry");
      return previewMessage(raw);
    },
  );

  app.post<{ Params: { id: string }; Body: { recipients?: string[]; learnAsHam?: boolean } }>(
    "/api/quarantine/:id/release",
    {
      schema: {
        summary: "Release to the recipients (all quarantined ones by default); optionally learn as ham",
        tags: ["quarantine"],
        params: idParams,
        body: obj({ ...recipientsBody.properties, learnAsHam: bool }),
      },
    },
    async (req) => {
      const p = requireAuth(req);
      const q = await load(p, req.params.id);
      const who = targets(p, q, req.body?.recipients);
      const may = mayRelease(releaser(p), q, who === "all" ? q.recipients.map((r) => r.address) : who);
      if (!may.ok) throw forbidden(may.reason);
      const res = await ctx.quarantine.release(q.id, who, {
        actor: p.subject,
        learnAsHam: req.body?.learnAsHam,
      });
      await ctx.audit(p, "quarantine.release", q.id, q.tenant, { recipients: who }, res);
      return res;
    },
  );

  app.post<{ Params: { id: string }; Body: { recipients?: string[] } }>(
    "/api/quarantine/:id/delete",
    {
      schema: {
        summary: "Delete for the recipients (all by default)",
        tags: ["quarantine"],
        params: idParams,
        body: recipientsBody,
      },
    },
    async (req) => {
      const p = requireAuth(req);
      const q = await load(p, req.params.id);
      const who = targets(p, q, req.body?.recipients);
      await ctx.quarantine.remove(q.id, who, { actor: p.subject });
      const after = await load(p, q.id);
      await ctx.audit(p, "quarantine.delete", q.id, q.tenant, q.recipients, after.recipients);
      return { recipients: after.recipients };
    },
  );

  app.post<{ Params: { id: string } }>(
    "/api/quarantine/:id/report-spam",
    { schema: { summary: "Learn the message as spam", tags: ["quarantine"], params: idParams } },
    async (req) => {
      const p = requireAuth(req);
      const q = await load(p, req.params.id);
      await ctx.quarantine.reportSpam(q.id, { actor: p.subject });
      await ctx.audit(p, "quarantine.learn-spam", q.id, q.tenant, null, { label: "spam" });
      return { ok: true };
    },
  );
}
