// Authoring tools: Sieve syntax check (template preview: templates.ts) and DKIM keys for a tenant's
// domains: generated into the store, sealed with the node's secret key, when the node has one
// (the signer then uses it); else the PEM is handed out once. Never changes the configuration.
import type { FastifyInstance } from "fastify";
import { generateDkimKey, txtStrings } from "../../filters/auth/keygen.ts";
import { createStoredKey, loadSecretKey } from "../../filters/auth/key-store.ts";
import { checkSieveSource, type SieveCheckOptions } from "../../filters/sieve/scripts.ts";
import type { TenantConfig } from "../../config/schema.ts";
import { assertTenant, requireRole, type Principal } from "../auth/principal.ts";
import { badRequest, notFound } from "../problem.ts";
import type { ApiContext } from "./context.ts";
import { obj, str } from "./schema.ts";

const tenantParams = obj({ tenant: str({ maxLength: 64 }) }, ["tenant"]);

export function toolRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const tenantOf = (p: Principal, id: string): TenantConfig => {
    const t = ctx.runtime.config.tenants.find((x) => x.id === id);
    if (!t) throw notFound("no such tenant");
    assertTenant(p, t.id, "no such tenant");
    return t;
  };

  app.post<{ Body: { script: string } }>(
    "/api/tools/sieve-check",
    {
      schema: {
        summary: "Check a Sieve script: errors and warnings with line and column",
        tags: ["tools"],
        body: obj({ script: str({ maxLength: 1_000_000 }) }, ["script"]),
      },
    },
    async (req) => {
      const p = requireRole(req, "operator", "tenant_admin");
      // The include locations and enotify allow-list in force for the caller (global, then tenant).
      type Opts = SieveCheckOptions | undefined;
      const tenant = ctx.runtime.config.tenants.find((x) => x.id === p.tenant);
      const options = {
        ...(ctx.runtime.config.policy.filters?.sieve?.options as Opts),
        ...(tenant?.policy?.filters?.sieve?.options as Opts),
      };
      return checkSieveSource(req.body.script, options);
    },
  );

  app.post<{
    Params: { tenant: string };
    Body: { domain: string; selector: string; type?: "rsa" | "ed25519" };
  }>(
    "/api/tenants/:tenant/dkim-keygen",
    {
      schema: {
        summary: "Generate a DKIM key for one of the tenant's domains; returns the PEM and the DNS record",
        tags: ["dkim"],
        params: tenantParams,
        body: obj(
          {
            domain: str({ maxLength: 253 }),
            selector: str({ pattern: "^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$" }),
            type: str({ enum: ["rsa", "ed25519"] }),
          },
          ["domain", "selector"],
        ),
      },
    },
    async (req) => {
      const p = requireRole(req, "operator", "tenant_admin");
      const t = tenantOf(p, req.params.tenant);
      const domain = req.body.domain.toLowerCase();
      if (!t.domains.includes(domain)) throw badRequest(`${domain} is not a domain of tenant ${t.id}`);
      const type = req.body.type ?? "rsa";
      const name = `${req.body.selector}._domainkey.${domain}`;
      const secret = await loadSecretKey({ keyFile: ctx.runtime.config.secrets?.key_file });
      if (secret && ctx.store.putDkimKey) {
        const { pair } = await createStoredKey(ctx.store, secret, {
          domain,
          selector: req.body.selector,
          tenant: t.id,
          type,
        });
        await ctx.audit(p, "dkim.keygen", name, t.id, null, {
          type,
          stored: true,
          publicKey: pair.publicKey,
        });
        return {
          name,
          type,
          stored: true,
          privatePem: null,
          dnsTxt: pair.dnsTxt,
          txtStrings: txtStrings(pair.dnsTxt),
        };
      }
      const key = generateDkimKey(type);
      await ctx.audit(p, "dkim.keygen", name, t.id, null, { type, stored: false, publicKey: key.publicKey });
      return {
        name,
        type,
        stored: false,
        privatePem: key.privatePem,
        dnsTxt: key.dnsTxt,
        txtStrings: txtStrings(key.dnsTxt),
      };
    },
  );

  app.get<{ Params: { tenant: string } }>(
    "/api/tenants/:tenant/dkim-keys",
    {
      schema: {
        summary: "The tenant's DKIM keys kept in the store (public parts)",
        tags: ["dkim"],
        params: tenantParams,
      },
    },
    async (req) => {
      const t = tenantOf(requireRole(req, "operator", "tenant_admin"), req.params.tenant);
      const keys = ctx.store.listDkimKeys ? await ctx.store.listDkimKeys({ tenant: t.id }) : [];
      return {
        keys: keys.map((k) => ({
          name: `${k.selector}._domainkey.${k.domain}`,
          domain: k.domain,
          selector: k.selector,
          algorithm: k.algorithm,
          dnsTxt: `v=DKIM1; k=${k.algorithm.startsWith("ed25519") ? "ed25519" : "rsa"}; p=${k.publicKey}`,
          createdAt: k.createdAt,
        })),
      };
    },
  );
}
