// Quarantine routes: list (searched, sorted and paged on the server, with what the caller may do
// with each entry), detail, safe preview, release (optionally learning as ham), delete, report as
// spam, and the same actions in bulk. Admins act within their tenant; end users only on their own
// recipient entry, and never release a message that carried a virus (may-release.ts).
import type { FastifyInstance } from "fastify";
import type { QuarantineItem, QuarantineQuery, QuarantineState } from "../../store/types.ts";
import { assertTenant, requireAuth, tenantFilter, type Principal } from "../auth/principal.ts";
import { forbidden, HttpProblem, notFound } from "../problem.ts";
import type { ApiContext } from "./context.ts";
import { previewMessage } from "./mail-preview.ts";
import { mayRelease, needsAdmin, ReleaseError, type Releaser } from "../../quarantine/index.ts";
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
  /** What the caller can do with an entry now: the console shows no button that can only fail. */
  const allowed = (p: Principal, q: QuarantineItem) => {
    const open = q.recipients.filter((r) => r.state === "quarantined").map((r) => r.address);
    const release = open.length > 0 && mayRelease(releaser(p), q, open).ok;
    return {
      release,
      releaseLearn: release && p.role !== "user",
      delete: open.length > 0,
      reportSpam: true,
      // Why release is not offered (a virus or blocked attachment for an end user).
      releaseNote:
        open.length > 0 && !release && p.role === "user" && open.some((a) => needsAdmin(q, a))
          ? "admin-only"
          : null,
    };
  };
  const view = (q: QuarantineItem, p?: Principal) => ({
    id: q.id,
    tenant: q.tenant,
    createdAt: q.createdAt,
    sender: q.envelope.mailFrom?.address ?? "",
    subject: q.subject,
    score: q.score,
    symbols: q.symbols,
    size: q.size,
    recipients: q.recipients,
    ...(p ? { allowed: allowed(p, q) } : {}),
  });
  const own = (p: Principal, i: QuarantineItem): QuarantineItem =>
    p.role === "user" ? { ...i, recipients: i.recipients.filter((r) => r.address === p.subject) } : i;

  app.get<{
    Querystring: {
      state?: QuarantineState;
      recipient?: string;
      sender?: string;
      q?: string;
      tenant?: string;
      since?: string;
      before?: string;
      sort?: NonNullable<QuarantineQuery["sort"]>;
      order?: "asc" | "desc";
      limit?: number;
      offset?: number;
    };
  }>(
    "/api/quarantine",
    {
      schema: {
        summary:
          "List quarantined messages (scoped to the caller): search (q: subject, sender, recipient, id), sort, page; total counts all matches",
        tags: ["quarantine"],
        querystring: obj({
          state: str({ enum: STATES }),
          recipient: str({ maxLength: 320 }),
          sender: str({ maxLength: 320 }),
          q: str({ maxLength: 200 }),
          tenant: str({ maxLength: 64 }),
          since: str({ format: "date-time" }),
          before: str({ format: "date-time" }),
          sort: str({ enum: ["created", "sender", "subject", "score", "size"] }),
          order: str({ enum: ["asc", "desc"] }),
          limit: int(1, 1000),
          offset: int(0, 10_000_000),
        }),
      },
    },
    async (req) => {
      const p = requireAuth(req);
      const q = req.query;
      const query: QuarantineQuery = {
        ...(p.role === "user"
          ? { recipient: p.subject }
          : { tenant: tenantFilter(p, q.tenant), recipient: q.recipient }),
        state: q.state,
        sender: q.sender || undefined,
        text: q.q?.trim() || undefined,
        since: q.since ? new Date(q.since) : undefined,
        before: q.before ? new Date(q.before) : undefined,
        sort: q.sort,
        order: q.order,
      };
      const limit = q.limit ?? 100;
      const offset = q.offset ?? 0;
      const [items, total] = await Promise.all([
        ctx.store.listQuarantine({ ...query, limit, offset }),
        ctx.store.countQuarantine(query),
      ]);
      return { items: items.map((i) => view(own(p, i), p)), total, offset, limit };
    },
  );

  app.get<{ Params: { id: string } }>(
    "/api/quarantine/:id",
    { schema: { summary: "One quarantine entry", tags: ["quarantine"], params: idParams } },
    async (req) => {
      const p = requireAuth(req);
      return view(await load(p, req.params.id), p);
    },
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

  type BulkAction = "release" | "release-learn" | "delete" | "report-spam";
  app.post<{ Body: { ids: string[]; action: BulkAction } }>(
    "/api/quarantine/bulk",
    {
      schema: {
        summary:
          "Release, release and learn as ham, delete or report as spam many entries (each for the caller's own recipients); one result per id",
        tags: ["quarantine"],
        body: obj(
          {
            ids: { type: "array", items: str({ maxLength: 200 }), minItems: 1, maxItems: 500 },
            action: str({ enum: ["release", "release-learn", "delete", "report-spam"] }),
          },
          ["ids", "action"],
        ),
      },
    },
    async (req) => {
      const p = requireAuth(req);
      const { action } = req.body;
      if (action === "release-learn" && p.role === "user") throw forbidden("learning is for administrators");
      const results: { id: string; ok: boolean; detail?: string }[] = [];
      for (const id of [...new Set(req.body.ids)]) {
        try {
          const q = await load(p, id);
          const who = targets(p, q);
          if (action === "delete") {
            await ctx.quarantine.remove(q.id, who, { actor: p.subject });
            const after = await load(p, q.id);
            await ctx.audit(p, "quarantine.delete", q.id, q.tenant, q.recipients, after.recipients);
            results.push({ id, ok: true });
          } else if (action === "report-spam") {
            await ctx.quarantine.reportSpam(q.id, { actor: p.subject });
            await ctx.audit(p, "quarantine.learn-spam", q.id, q.tenant, null, { label: "spam" });
            results.push({ id, ok: true });
          } else {
            const open = q.recipients.filter((r) => r.state === "quarantined").map((r) => r.address);
            const may = mayRelease(releaser(p), q, who === "all" ? open : who);
            if (!may.ok) {
              results.push({ id, ok: false, detail: may.reason });
              continue;
            }
            const res = await ctx.quarantine.release(q.id, who, {
              actor: p.subject,
              learnAsHam: action === "release-learn",
            });
            await ctx.audit(p, "quarantine.release", q.id, q.tenant, { recipients: who }, res);
            results.push({
              id,
              ok: res.released.length > 0,
              ...(res.failed.length
                ? { detail: res.failed.map((f) => `${f.address}: ${f.reason}`).join("; ") }
                : {}),
            });
          }
        } catch (err) {
          if (!(err instanceof HttpProblem) && !(err instanceof ReleaseError)) throw err;
          results.push({ id, ok: false, detail: err instanceof HttpProblem ? err.title : err.message });
        }
      }
      return {
        action,
        results,
        ok: results.filter((r) => r.ok).length,
        failed: results.filter((r) => !r.ok).length,
      };
    },
  );
}
