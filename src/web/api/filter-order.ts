// Filter order and on/off per tenant from the console (as Sendmail Mailstream Manager allowed
// from its GUI): the change is a configuration revision like any other — the newest revision of
// the node's role (or the node's own file's cluster sections, for the first one) with the
// tenant's policy.filters.<name>.priority/enabled set, validated completely and published with
// the admin as author, applied by every node's agent; the decision trace shows the order used.
import type { FastifyInstance } from "fastify";
import { parse, parseDocument, stringify, YAMLMap, YAMLSeq } from "yaml";
import { ConfigError, formatIssue } from "../../config/errors.ts";
import { ClusterError, publishRevision } from "../../cluster/publish.ts";
import { CLUSTER_KEYS } from "../../cluster/revision.ts";
import { assertTenant, requireRole } from "../auth/principal.ts";
import { badRequest, HttpProblem, notFound } from "../problem.ts";
import type { ApiContext } from "./context.ts";
import { bool, int, obj, str } from "./schema.ts";

interface FilterSetting {
  name: string;
  priority: number;
  enabled: boolean;
}

/** The cluster sections of a node's own configuration text (what a first revision carries). */
export function clusterSections(localText: string): string {
  const local = (parse(localText) ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of CLUSTER_KEYS) if (k in local) out[k] = local[k];
  return stringify(out);
}

/** The revision text with one tenant's filter settings replaced (comments and layout kept). */
export function withFilterOrder(text: string, tenant: string, filters: FilterSetting[]): string {
  const doc = parseDocument(text);
  const tenants = doc.get("tenants");
  const index =
    tenants instanceof YAMLSeq
      ? tenants.items.findIndex((t) => t instanceof YAMLMap && t.get("id") === tenant)
      : -1;
  if (index < 0)
    throw new ClusterError(`tenant ${tenant} is not in the configuration published for this role`);
  for (const f of filters) {
    doc.setIn(["tenants", index, "policy", "filters", f.name, "priority"], f.priority);
    doc.setIn(["tenants", index, "policy", "filters", f.name, "enabled"], f.enabled);
  }
  return doc.toString();
}

export function filterOrderRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.put<{
    Params: { tenant: string };
    Body: { filters: FilterSetting[]; role?: string; note?: string };
  }>(
    "/api/tenants/:tenant/filters",
    {
      schema: {
        summary:
          "Set the order (priority) and on/off of the tenant's filters: published as a new configuration revision of the role",
        tags: ["tenants"],
        params: obj({ tenant: str({ maxLength: 64 }) }, ["tenant"]),
        body: obj(
          {
            filters: {
              type: "array",
              minItems: 1,
              maxItems: 100,
              items: obj({ name: str({ maxLength: 64 }), priority: int(-10_000, 10_000), enabled: bool }, [
                "name",
                "priority",
                "enabled",
              ]),
            },
            role: str({ maxLength: 63 }),
            note: str({ maxLength: 500 }),
          },
          ["filters"],
        ),
      },
    },
    async (req) => {
      const p = requireRole(req, "operator", "tenant_admin");
      const t = ctx.runtime.config.tenants.find((x) => x.id === req.params.tenant);
      if (!t) throw notFound("no such tenant");
      assertTenant(p, t.id, "no such tenant");
      const known = new Set(ctx.runtime.registry.all().map((f) => f.name));
      const unknown = req.body.filters.filter((f) => !known.has(f.name)).map((f) => f.name);
      if (unknown.length) throw badRequest(`unknown filters: ${unknown.join(", ")}`);
      const role = req.body.role ?? ctx.runtime.config.node.role;
      const latest = await ctx.store.latestConfigRevision(role);
      const base = latest?.text ?? clusterSections(await ctx.runtime.localText());
      const before = Object.fromEntries(
        Object.entries(t.policy?.filters ?? {}).map(([n, f]) => [
          n,
          { priority: f.priority, enabled: f.enabled },
        ]),
      );
      let rev;
      try {
        const text = withFilterOrder(base, t.id, req.body.filters);
        rev = await publishRevision(ctx.store, ctx.runtime.registry, {
          role,
          text,
          author: `console:${p.subject}`,
          note: req.body.note ?? `filter order of tenant ${t.id}`,
        });
      } catch (err) {
        if (err instanceof ConfigError)
          throw new HttpProblem(422, "revision refused", `${err.issues.length} issue(s)`, {
            issues: err.issues.map(formatIssue),
          });
        if (err instanceof ClusterError) throw new HttpProblem(409, "not possible", err.message);
        throw err;
      }
      const after = Object.fromEntries(
        req.body.filters.map((f) => [f.name, { priority: f.priority, enabled: f.enabled }]),
      );
      await ctx.audit(
        p,
        "tenant.filters",
        `tenant:${t.id}`,
        t.id,
        { rev: latest?.rev ?? null, filters: before },
        {
          rev: rev.rev,
          role,
          filters: after,
        },
      );
      return {
        rev: rev.rev,
        role: rev.role,
        author: rev.author,
        filters: [...req.body.filters].sort(
          (a, b) => a.priority - b.priority || a.name.localeCompare(b.name),
        ),
      };
    },
  );
}
