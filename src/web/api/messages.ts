// Message log search with each recipient's decision trace, and the hold queue (list, send
// now, cancel, approve). Admin views: end users see only their own log lines and no queue.
import type { FastifyInstance } from "fastify";
import type { HoldState, LogEntry, LogQuery } from "../../store/types.ts";
import { assertTenant, requireAuth, requireRole, tenantFilter, type Principal } from "../auth/principal.ts";
import { notFound } from "../problem.ts";
import type { ApiContext } from "./context.ts";
import { idParams, int, obj, str } from "./schema.ts";

export function messageRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const own = (p: Principal, e: LogEntry): LogEntry =>
    p.role === "user" ? { ...e, recipients: e.recipients.filter((r) => r.address === p.subject) } : e;

  app.get<{
    Querystring: {
      ref?: string;
      q?: string;
      subject?: string;
      recipient?: string;
      sender?: string;
      since?: string;
      before?: string;
      tenant?: string;
      sort?: NonNullable<LogQuery["sort"]>;
      order?: "asc" | "desc";
      limit?: number;
      offset?: number;
    };
  }>(
    "/api/log",
    {
      schema: {
        summary:
          "Search the message log with per-recipient decision traces: by reference id, text (q: subject, sender, recipient, ref), address, time; sorted and paged, total counts all matches",
        tags: ["log"],
        querystring: obj({
          ref: str({ maxLength: 64 }),
          q: str({ maxLength: 200 }),
          subject: str({ maxLength: 200 }),
          recipient: str({ maxLength: 320 }),
          sender: str({ maxLength: 320 }),
          since: str({ format: "date-time" }),
          before: str({ format: "date-time" }),
          tenant: str({ maxLength: 64 }),
          sort: str({ enum: ["at", "sender", "subject", "size"] }),
          order: str({ enum: ["asc", "desc"] }),
          limit: int(1, 1000),
          offset: int(0, 10_000_000),
        }),
      },
    },
    async (req) => {
      const p = requireAuth(req);
      const q = req.query;
      const query: LogQuery = {
        ref: q.ref?.trim() || undefined,
        text: q.q?.trim() || undefined,
        subject: q.subject?.trim() || undefined,
        sender: q.sender?.trim() || undefined,
        since: q.since ? new Date(q.since) : undefined,
        before: q.before ? new Date(q.before) : undefined,
        sort: q.sort,
        order: q.order,
        ...(p.role === "user"
          ? { recipient: p.subject }
          : { tenant: tenantFilter(p, q.tenant), recipient: q.recipient?.trim() || undefined }),
      };
      const limit = q.limit ?? 100;
      const offset = q.offset ?? 0;
      const [entries, total] = await Promise.all([
        ctx.store.searchLog({ ...query, limit, offset }),
        ctx.store.countLog(query),
      ]);
      return { entries: entries.map((e) => own(p, e)), total, offset, limit };
    },
  );

  app.get<{ Params: { id: string } }>(
    "/api/log/:id",
    { schema: { summary: "One message log entry", tags: ["log"], params: idParams } },
    async (req) => {
      const p = requireAuth(req);
      // A message to several tenants has one entry per tenant (`<ref>`, `<ref>-T2` …): the
      // reference id a sender quotes finds the caller's own entry.
      const id = req.params.id;
      const e =
        p.role === "operator"
          ? await ctx.store.getLog(id)
          : ((
              await ctx.store.searchLog(
                p.role === "user" ? { ref: id, recipient: p.subject } : { ref: id, tenant: tenantFilter(p) },
              )
            )[0] ?? null);
      if (!e) throw notFound("no such message");
      if (p.role !== "user") assertTenant(p, e.tenant, "no such message");
      return own(p, e);
    },
  );

  app.get<{ Querystring: { state?: HoldState; tenant?: string; limit?: number } }>(
    "/api/hold",
    {
      schema: {
        summary: "The hold queue (scheduled and approval-gated mail)",
        tags: ["hold"],
        querystring: obj({
          state: str({ enum: ["held", "released", "cancelled"] }),
          tenant: str({ maxLength: 64 }),
          limit: int(1, 1000),
        }),
      },
    },
    async (req) => {
      const p = requireRole(req, "operator", "tenant_admin");
      const items = await ctx.store.listHolds({
        tenant: tenantFilter(p, req.query.tenant),
        state: req.query.state,
        limit: req.query.limit,
      });
      // What the caller can do now (the console shows no button that can only fail): a held
      // entry waiting for approval is not sent before it is approved, and only its approvers approve.
      const approvers = (h: (typeof items)[number]) => [
        ...(h.approver ?? "").split(",").filter(Boolean),
        ...(ctx.runtime.config.tenants.find((t) => t.id === h.tenant)?.hold?.approval?.approvers ?? []),
      ];
      return {
        items: items.map((h) => ({
          ...h,
          sender: h.envelope.mailFrom?.address ?? "",
          recipients: h.envelope.recipients.map((r) => r.address),
          allowed: {
            release: h.state === "held" && (!h.approver || h.approvedBy !== null),
            cancel: h.state === "held",
            approve:
              h.state === "held" &&
              !!h.approver &&
              !h.approvedBy &&
              approvers(h).includes(p.subject.toLowerCase()),
          },
        })),
      };
    },
  );

  const holdAction = (name: "release" | "cancel" | "approve", summary: string) =>
    app.post<{ Params: { id: string } }>(
      `/api/hold/:id/${name}`,
      { schema: { summary, tags: ["hold"], params: idParams } },
      async (req) => {
        const p = requireRole(req, "operator", "tenant_admin");
        const h = await ctx.store.getHold(req.params.id);
        if (!h) throw notFound("no such hold entry");
        assertTenant(p, h.tenant, "no such hold entry");
        const opts = { actor: p.subject };
        if (name === "release") await ctx.quarantine.releaseHold(h.id, opts);
        else if (name === "cancel") await ctx.quarantine.cancelHold(h.id, opts);
        else await ctx.quarantine.approveHold(h.id, opts);
        const after = await ctx.store.getHold(h.id);
        await ctx.audit(p, `hold.${name}`, h.id, h.tenant, { state: h.state }, { state: after?.state });
        return { id: h.id, state: after?.state ?? null };
      },
    );
  holdAction("release", "Send a held message now");
  holdAction("cancel", "Cancel a held message");
  holdAction("approve", "Approve a held message (approval mode) and send it");
}
