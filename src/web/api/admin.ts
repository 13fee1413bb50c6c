// Installation views for admins: tenants with their domains and effective policy (filter
// order, on/off, thresholds), console accounts (operators only) and the audit log.
// Read-mostly: tenant and policy changes are configuration revisions, not API writes.
import type { FastifyInstance } from "fastify";
import type { ConsoleRole } from "../../store/types.ts";
import { AccountError, createAccount } from "../auth/accounts.ts";
import { requireRole, tenantFilter } from "../auth/principal.ts";
import { badRequest, HttpProblem } from "../problem.ts";
import type { ApiContext } from "./context.ts";
import { int, obj, str } from "./schema.ts";

export function adminRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get(
    "/api/tenants",
    { schema: { summary: "Tenants, domains and effective policy", tags: ["tenants"] } },
    async (req) => {
      const p = requireRole(req, "operator", "tenant_admin");
      const only = tenantFilter(p);
      const cfg = ctx.runtime.config;
      const out = [];
      for (const t of cfg.tenants) {
        if (only !== undefined && t.id !== only) continue;
        const pol = await ctx.runtime.resolver.forRecipient(`postmaster@${t.domains[0]}`);
        out.push({
          id: t.id,
          domains: t.domains,
          language: t.language,
          splitMixedPolicies: t.split_mixed_policies,
          delivery: t.delivery ?? cfg.delivery,
          thresholds: pol.thresholds,
          lists: { maxEntries: pol.lists.maxEntries, blacklistAction: pol.lists.blacklistAction },
          filters: Object.entries(pol.filters)
            .map(([name, f]) => ({
              name,
              enabled: f.enabled,
              offReason: f.offReason,
              priority: f.priority,
              onError: f.onError,
              timeoutMs: f.timeoutMs,
            }))
            .sort((a, b) => a.priority - b.priority || a.name.localeCompare(b.name)),
        });
      }
      return { tenants: out };
    },
  );

  app.get(
    "/api/accounts",
    { schema: { summary: "Console accounts (operators only)", tags: ["accounts"] } },
    async (req) => {
      requireRole(req, "operator");
      const list = await ctx.store.listAccounts();
      return {
        accounts: list.map((a) => ({
          login: a.login,
          role: a.role,
          tenant: a.tenant,
          createdAt: a.createdAt,
        })),
      };
    },
  );

  app.post<{ Body: { login: string; role: ConsoleRole; tenant?: string; password: string } }>(
    "/api/accounts",
    {
      schema: {
        summary: "Create or reset a console account (operators only)",
        tags: ["accounts"],
        body: obj(
          {
            login: str({ maxLength: 64 }),
            role: str({ enum: ["operator", "tenant_admin"] }),
            tenant: str({ maxLength: 64 }),
            password: str({ maxLength: 1024 }),
          },
          ["login", "role", "password"],
        ),
      },
    },
    async (req) => {
      const p = requireRole(req, "operator");
      const before = await ctx.store.getAccount(req.body.login);
      try {
        const a = await createAccount(ctx.store, ctx.runtime.config, req.body);
        const pub = { login: a.login, role: a.role, tenant: a.tenant };
        await ctx.audit(
          p,
          before ? "account.reset" : "account.create",
          a.login,
          a.tenant,
          before && { role: before.role, tenant: before.tenant },
          pub,
        );
        return pub;
      } catch (err) {
        if (err instanceof AccountError) throw badRequest(err.message);
        throw err;
      }
    },
  );

  app.get<{ Querystring: { tenant?: string; limit?: number } }>(
    "/api/audit",
    {
      schema: {
        summary: "The audit log: who changed what, when, before and after (newest first)",
        tags: ["audit"],
        querystring: obj({ tenant: str({ maxLength: 64 }), limit: int(1, 1000) }),
      },
    },
    async (req) => {
      const p = requireRole(req, "operator", "tenant_admin");
      const tenant = tenantFilter(p, req.query.tenant);
      if (p.role === "tenant_admin" && !tenant) throw new HttpProblem(404, "no such tenant");
      return { entries: await ctx.store.listAudit({ tenant, limit: req.query.limit }) };
    },
  );
}
