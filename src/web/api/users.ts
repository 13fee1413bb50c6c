// Users of the built-in directory and their white/blacklists: admins manage their tenant's
// users (/api/users), end users their own spam filter, language and lists (/api/me). Users
// declared in the configuration file or kept in LDAP are read-only here (409 says where).
import { userFromConfig } from "../../policy/builtin-directory.ts";
import type { FastifyInstance } from "fastify";
import { listEntry } from "../../config/schema.ts";
import { hashPassword } from "../../policy/password.ts";
import { ListLimitError, type ListKind, type StoredUser } from "../../store/types.ts";
import { revokeSessions } from "../auth/revoke.ts";
import { assertTenant, requireAuth, requireRole, tenantFilter, type Principal } from "../auth/principal.ts";
import { badRequest, HttpProblem, notFound } from "../problem.ts";
import type { ApiContext } from "./context.ts";
import { bool, obj, str } from "./schema.ts";

const address = str({ minLength: 3, maxLength: 320, pattern: "^[^\\s@<>]+@[^\\s@<>]+$" });
const kindParams = obj({ address, kind: str({ enum: ["whitelist", "blacklist"] }) }, ["address", "kind"]);
const listBody = obj({ entries: { type: "array", items: str({ maxLength: 320 }), maxItems: 10_000 } }, [
  "entries",
]);
const patchBody = obj({
  spamFilter: { type: ["boolean", "null"] },
  language: { type: ["string", "null"], enum: ["en", "ja", null] },
  password: str({ minLength: 8, maxLength: 1024 }),
});

type Patch = { spamFilter?: boolean | null; language?: "en" | "ja" | null; password?: string };

export function userRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const cfg = () => ctx.runtime.config;
  const configUser = (a: string) =>
    cfg().tenants.some((t) => t.users.some((u) => u.address === a || u.aliases.includes(a)));
  const maxEntries = async (a: string) => (await ctx.runtime.resolver.forRecipient(a)).lists.maxEntries;

  const view = async (u: StoredUser, source: "store" | "config") => ({
    address: u.address,
    tenant: u.tenant,
    aliases: u.aliases,
    language: u.language,
    spamFilter: u.spamFilter,
    whitelist: u.whitelist,
    blacklist: u.blacklist,
    source,
    hasPassword: u.passwordHash !== null,
    maxEntries: await maxEntries(u.address),
  });

  /** A user the principal may manage, from the store; 404 outside its scope, 409 if not ours to edit. */
  const editable = async (p: Principal, raw: string): Promise<StoredUser> => {
    const a = raw.toLowerCase();
    if (p.role === "user" && a !== p.subject) throw notFound("no such user");
    const u = await ctx.store.getUser(a);
    if (u) {
      if (p.role !== "user") assertTenant(p, u.tenant, "no such user");
      if (!configUser(u.address)) return u;
    }
    const du = await ctx.runtime.directory.lookup(a);
    if (!du) throw notFound("no such user");
    if (p.role !== "user") assertTenant(p, du.tenant, "no such user");
    const where = configUser(du.address)
      ? "the configuration file (tenants[].users)"
      : "the directory (LDAP)";
    throw new HttpProblem(
      409,
      "user is not managed here",
      `${du.address} is defined in ${where}; change it there`,
    );
  };

  const patch = async (p: Principal, a: string, body: Patch) => {
    const before = await editable(p, a);
    const after: StoredUser = {
      ...before,
      ...(body.spamFilter !== undefined ? { spamFilter: body.spamFilter } : {}),
      ...(body.language !== undefined ? { language: body.language } : {}),
      ...(body.password !== undefined ? { passwordHash: await hashPassword(body.password) } : {}),
    };
    await ctx.store.putUser(after);
    // A new password ends the user's sessions everywhere (the old password may be known).
    if (body.password !== undefined) await revokeSessions(ctx.store, before.address);
    const redact = (u: StoredUser) => ({
      spamFilter: u.spamFilter,
      language: u.language,
      passwordChanged: u !== before && body.password !== undefined,
    });
    await ctx.audit(p, "user.update", before.address, before.tenant, redact(before), redact(after));
    return view(after, "store");
  };

  const setList = async (p: Principal, a: string, kind: ListKind, entries: string[]) => {
    const before = await editable(p, a);
    const clean: string[] = [];
    for (const [i, e] of entries.entries()) {
      const r = listEntry.safeParse(e.trim());
      if (!r.success)
        throw badRequest(`entry ${i + 1} ("${e}") is not an address, domain or *@domain`, { entry: i });
      clean.push(r.data);
    }
    const max = await maxEntries(before.address);
    try {
      await ctx.store.setList(before.address, kind, clean, max);
    } catch (err) {
      if (err instanceof ListLimitError) {
        throw new HttpProblem(
          422,
          "list limit exceeded",
          `a ${kind} holds at most ${max} entries (got ${clean.length})`,
          {
            maxEntries: max,
            entries: clean.length,
          },
        );
      }
      throw err;
    }
    await ctx.audit(p, `user.${kind}`, before.address, before.tenant, before[kind], clean);
    return { address: before.address, kind, entries: clean, maxEntries: max };
  };

  // ---- admins ----

  app.get<{ Querystring: { tenant?: string } }>(
    "/api/users",
    {
      schema: {
        summary: "Users of the caller's tenants (configuration file and store)",
        tags: ["users"],
        querystring: obj({ tenant: str({ maxLength: 64 }) }),
      },
    },
    async (req) => {
      const p = requireRole(req, "operator", "tenant_admin");
      const only = tenantFilter(p, req.query.tenant);
      const out = [];
      for (const t of cfg().tenants) {
        if (only !== undefined && t.id !== only) continue;
        for (const u of t.users) {
          out.push(
            await view({ ...userFromConfig(t.id, u), passwordHash: u.password_hash ?? null }, "config"),
          );
        }
        for (const u of await ctx.store.listUsers(t.id))
          if (!configUser(u.address)) out.push(await view(u, "store"));
      }
      return { users: out };
    },
  );

  app.post<{ Body: Patch & { address: string } }>(
    "/api/users",
    {
      schema: {
        summary: "Create a user in the built-in directory (tenant from the address's domain)",
        tags: ["users"],
        body: obj({ ...patchBody.properties, address }, ["address"]),
      },
    },
    async (req) => {
      const p = requireRole(req, "operator", "tenant_admin");
      const a = req.body.address.toLowerCase();
      const tenant = ctx.runtime.resolver.tenantFor(a);
      if (!tenant) throw badRequest(`${a} is not in a domain of any tenant`);
      assertTenant(p, tenant.id, "no such tenant");
      if (configUser(a) || (await ctx.store.getUser(a)))
        throw new HttpProblem(409, "user exists", `${a} exists already`);
      const u: StoredUser = {
        id: a,
        tenant: tenant.id,
        address: a,
        aliases: [],
        language: req.body.language ?? null,
        spamFilter: req.body.spamFilter ?? null,
        thresholds: {},
        whitelist: [],
        blacklist: [],
        sendAs: [],
        passwordHash: req.body.password ? await hashPassword(req.body.password) : null,
      };
      await ctx.store.putUser(u);
      await ctx.audit(p, "user.create", a, tenant.id, null, {
        spamFilter: u.spamFilter,
        language: u.language,
      });
      return view(u, "store");
    },
  );

  app.get<{ Params: { address: string } }>(
    "/api/users/:address",
    { schema: { summary: "One user", tags: ["users"], params: obj({ address }, ["address"]) } },
    async (req) => {
      const p = requireRole(req, "operator", "tenant_admin");
      const a = req.params.address.toLowerCase();
      const stored = await ctx.store.getUser(a);
      const u = stored ?? (await ctx.runtime.directory.lookup(a));
      if (!u) throw notFound("no such user");
      assertTenant(p, u.tenant, "no such user");
      return view({ passwordHash: null, ...u }, stored && !configUser(u.address) ? "store" : "config");
    },
  );

  app.put<{ Params: { address: string }; Body: Patch }>(
    "/api/users/:address",
    {
      schema: {
        summary: "Change a user's spam filter, language or password",
        tags: ["users"],
        params: obj({ address }, ["address"]),
        body: patchBody,
      },
    },
    async (req) => patch(requireRole(req, "operator", "tenant_admin"), req.params.address, req.body),
  );

  app.delete<{ Params: { address: string } }>(
    "/api/users/:address",
    {
      schema: {
        summary: "Delete a user of the built-in directory",
        tags: ["users"],
        params: obj({ address }, ["address"]),
      },
    },
    async (req) => {
      const p = requireRole(req, "operator", "tenant_admin");
      const u = await editable(p, req.params.address);
      await ctx.store.deleteUser(u.address);
      await revokeSessions(ctx.store, u.address);
      await ctx.audit(
        p,
        "user.delete",
        u.address,
        u.tenant,
        { spamFilter: u.spamFilter, language: u.language },
        null,
      );
      return { ok: true };
    },
  );

  app.put<{ Params: { address: string; kind: ListKind }; Body: { entries: string[] } }>(
    "/api/users/:address/lists/:kind",
    {
      schema: {
        summary: "Replace a user's whitelist or blacklist (limit enforced: 422)",
        tags: ["users"],
        params: kindParams,
        body: listBody,
      },
    },
    async (req) =>
      setList(
        requireRole(req, "operator", "tenant_admin"),
        req.params.address,
        req.params.kind,
        req.body.entries,
      ),
  );

  // ---- end-user portal ----

  app.get(
    "/api/me/settings",
    { schema: { summary: "The end user's own settings", tags: ["portal"] } },
    async (req) => {
      const p = requireRole(req, "user");
      const stored = await ctx.store.getUser(p.subject);
      const u = stored ?? (await ctx.runtime.directory.lookup(p.subject));
      if (!u) throw notFound("no such user");
      const effective = await ctx.runtime.resolver.forRecipient(p.subject);
      return {
        ...(await view({ passwordHash: null, ...u }, stored && !configUser(u.address) ? "store" : "config")),
        effectiveSpamFilter: effective.filters["spam-classifier"]?.enabled ?? u.spamFilter !== false,
      };
    },
  );

  app.put<{ Body: Omit<Patch, "password"> }>(
    "/api/me/settings",
    {
      schema: {
        summary: "Switch the own spam filter ON/OFF or change the language",
        tags: ["portal"],
        body: obj({ spamFilter: bool, language: str({ enum: ["en", "ja"] }) }),
      },
    },
    async (req) => patch(requireRole(req, "user"), requireAuth(req).subject, req.body),
  );

  app.put<{ Params: { kind: ListKind }; Body: { entries: string[] } }>(
    "/api/me/lists/:kind",
    {
      schema: {
        summary: "Replace the own whitelist or blacklist",
        tags: ["portal"],
        params: obj({ kind: str({ enum: ["whitelist", "blacklist"] }) }, ["kind"]),
        body: listBody,
      },
    },
    async (req) => {
      const p = requireRole(req, "user");
      return setList(p, p.subject, req.params.kind, req.body.entries);
    },
  );
}
