// Who is calling: the principal a session stands for, and the scoping rules every route
// uses (operator: everything; tenant admin: one tenant; end user: their own data).
// Out-of-scope objects answer 404, not 403, so ids in other tenants cannot be probed.
import type { FastifyRequest } from "fastify";
import { forbidden, HttpProblem, notFound } from "../problem.ts";

export type Role = "operator" | "tenant_admin" | "user";

export interface Principal {
  subject: string;
  role: Role;
  tenant: string | null;
  sessionId: string;
  csrf: string;
}

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export function requireAuth(req: FastifyRequest): Principal {
  if (!req.principal) throw new HttpProblem(401, "not logged in");
  return req.principal;
}

export function requireRole(req: FastifyRequest, ...roles: Role[]): Principal {
  const p = requireAuth(req);
  if (!roles.includes(p.role)) throw forbidden(`this needs the role ${roles.join(" or ")}`);
  return p;
}

/** The tenant filter for list queries: undefined = all (operator). */
export function tenantFilter(p: Principal, asked?: string): string | undefined {
  if (p.role === "operator") return asked || undefined;
  if (asked && asked !== p.tenant) throw notFound("no such tenant");
  return p.tenant ?? "\u0000none";
}

/** Throws 404 unless the principal may see objects of this tenant. */
export function assertTenant(p: Principal, tenant: string | null, what = "not found"): void {
  if (p.role === "operator") return;
  if (tenant === null || tenant !== p.tenant) throw notFound(what);
}
