// Installation views for admins: tenants with their domains and effective policy (filter
// order, on/off, thresholds), console accounts (operators only: create, reset, disable,
// enable, delete, log out everywhere) and the audit log. Tenant and policy changes are
// configuration revisions (config.ts), not API writes.
import type { FastifyInstance } from "fastify";
import { redactValue } from "../../config/redact.ts";
import type { ConsoleAccount, ConsoleRole } from "../../store/types.ts";
import {
  AccountError,
  assertOtherOperator,
  createAccount,
  deleteAccount,
  isDeleted,
  isDisabled,
  listAccounts,
  setDisabled,
} from "../auth/accounts.ts";
import { requireRole, tenantFilter } from "../auth/principal.ts";
import { revokeSessions } from "../auth/revoke.ts";
import { badRequest, HttpProblem, notFound } from "../problem.ts";
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

  const account = (a: ConsoleAccount) => ({
    login: a.login,
    role: a.role,
    tenant: a.tenant,
    disabled: isDisabled(a),
    createdAt: a.createdAt,
  });
  const refused = (err: unknown): never => {
    if (err instanceof AccountError) throw new HttpProblem(409, "not possible", err.message);
    throw err;
  };

  app.get(
    "/api/accounts",
    { schema: { summary: "Console accounts (operators only)", tags: ["accounts"] } },
    async (req) => {
      requireRole(req, "operator");
      return { accounts: (await listAccounts(ctx.store)).map(account) };
    },
  );

  app.post<{ Body: { login: string; role: ConsoleRole; tenant?: string; password: string } }>(
    "/api/accounts",
    {
      schema: {
        summary: "Create or reset a console account (operators only); a reset ends its sessions",
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
      const found = await ctx.store.getAccount(req.body.login.trim().toLowerCase());
      const before = found && !isDeleted(found) ? found : null;
      // Demoting or moving the last operator would leave nobody to administer the node.
      if (before?.role === "operator" && req.body.role !== "operator")
        await assertOtherOperator(ctx.store, before.login).catch(refused);
      try {
        const a = await createAccount(ctx.store, ctx.runtime.config, req.body);
        const pub = { login: a.login, role: a.role, tenant: a.tenant };
        await ctx.audit(
          p,
          before ? "account.reset" : "account.create",
          a.login,
          a.tenant,
          before && { role: before.role, tenant: before.tenant, disabled: isDisabled(before) },
          { ...pub, passwordChanged: true },
        );
        return pub;
      } catch (err) {
        if (err instanceof AccountError) throw badRequest(err.message);
        throw err;
      }
    },
  );

  const loginParams = obj({ login: str({ maxLength: 64 }) }, ["login"]);

  app.delete<{ Params: { login: string } }>(
    "/api/accounts/:login",
    {
      schema: {
        summary: "Delete a console account and end its sessions (operators only)",
        tags: ["accounts"],
        params: loginParams,
      },
    },
    async (req) => {
      const p = requireRole(req, "operator");
      const login = req.params.login.toLowerCase();
      if (login === p.subject) throw new HttpProblem(409, "not possible", "an operator cannot delete itself");
      const before = await ctx.store.getAccount(login);
      if (!before || isDeleted(before)) throw notFound("no such account");
      if (before.role === "operator") await assertOtherOperator(ctx.store, login).catch(refused);
      await deleteAccount(ctx.store, login).catch(refused);
      await ctx.audit(p, "account.delete", login, before.tenant, account(before), null);
      return { ok: true };
    },
  );

  for (const action of ["disable", "enable"] as const) {
    app.post<{ Params: { login: string } }>(
      `/api/accounts/:login/${action}`,
      {
        schema: {
          summary:
            action === "disable"
              ? "Disable a console account: its sessions end, logins are refused (operators only)"
              : "Enable a disabled console account again, with its old password (operators only)",
          tags: ["accounts"],
          params: loginParams,
        },
      },
      async (req) => {
        const p = requireRole(req, "operator");
        const login = req.params.login.toLowerCase();
        const before = await ctx.store.getAccount(login);
        if (!before || isDeleted(before)) throw notFound("no such account");
        if (action === "disable") {
          if (login === p.subject)
            throw new HttpProblem(409, "not possible", "an operator cannot disable itself");
          if (before.role === "operator") await assertOtherOperator(ctx.store, login).catch(refused);
        }
        const after = await setDisabled(ctx.store, login, action === "disable").catch(refused);
        await ctx.audit(p, `account.${action}`, login, before.tenant, account(before), account(after));
        return account(after);
      },
    );
  }

  app.post<{ Params: { login: string } }>(
    "/api/accounts/:login/logout",
    {
      schema: {
        summary: "End every session of a console account, on every node (operators only)",
        tags: ["accounts"],
        params: loginParams,
      },
    },
    async (req) => {
      const p = requireRole(req, "operator");
      const login = req.params.login.toLowerCase();
      const a = await ctx.store.getAccount(login);
      if (!a || isDeleted(a)) throw notFound("no such account");
      await revokeSessions(ctx.store, login);
      await ctx.audit(p, "session.revoke", login, a.tenant, null, { by: p.subject });
      return { ok: true };
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
      const entries = await ctx.store.listAudit({ tenant, limit: req.query.limit });
      // Entries written before secrets were redacted on the way in are redacted on the way out.
      return {
        entries: entries.map((e) => ({ ...e, before: redactValue(e.before), after: redactValue(e.after) })),
      };
    },
  );
}
