// Users and their white/blacklists: admins manage their tenant's users (/api/users), end users
// their own spam filter, language and lists (/api/me). Users of the built-in store are edited
// in place. Users of the configuration file or of LDAP keep their entry where it is: what they
// (or an admin) change here is their override in the store, laid over the directory's answer
// (src/policy/override-directory.ts) — unless the policy locks that setting (self_service).
import { userFromConfig } from "../../policy/builtin-directory.ts";
import type { FastifyInstance } from "fastify";
import { listEntry } from "../../config/schema.ts";
import { hashPassword } from "../../policy/password.ts";
import {
  applyOverride,
  OverrideDirectory,
  selfServiceOf,
  type SelfService,
} from "../../policy/override-directory.ts";
import type { User } from "../../message/types.ts";
import { ListLimitError, type ListKind, type StoredUser, type UserOverride } from "../../store/types.ts";
import { revokeSessions } from "../auth/revoke.ts";
import { assertTenant, requireAuth, requireRole, tenantFilter, type Principal } from "../auth/principal.ts";
import { badRequest, HttpProblem, notFound } from "../problem.ts";
import type { ApiContext } from "./context.ts";
import { obj, str } from "./schema.ts";

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

/** A user the caller may edit: a store user in place, or a directory user through its override. */
type Target =
  | { source: "store"; user: StoredUser }
  | { source: "config" | "ldap"; user: User; override: UserOverride | null };

export function userRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const cfg = () => ctx.runtime.config;
  const configUser = (a: string) =>
    cfg().tenants.some((t) => t.users.some((u) => u.address === a || u.aliases.includes(a)));
  const maxEntries = async (a: string) => (await ctx.runtime.resolver.forRecipient(a)).lists.maxEntries;
  const selfService = (tenant: string): SelfService =>
    selfServiceOf(
      cfg(),
      cfg().tenants.find((t) => t.id === tenant),
    );
  const overrides = () => {
    const d = ctx.runtime.directory;
    return d instanceof OverrideDirectory ? d : null;
  };
  /** The directory's own answer, without the user's override. */
  const directoryUser = async (a: string): Promise<User | null> =>
    (overrides()?.inner ?? ctx.runtime.directory).lookup(a);
  const sourceOf = (a: string): "config" | "ldap" => (configUser(a) ? "config" : "ldap");

  const locked = (s: SelfService) => ({ spamFilter: !s.spamFilter, language: !s.language, lists: !s.lists });

  const view = async (t: Target) => {
    const u = t.user;
    const o = t.source === "store" ? null : t.override;
    const s = selfService(u.tenant);
    const effective = t.source === "store" ? u : applyOverride(u, o, s);
    return {
      address: u.address,
      tenant: u.tenant,
      aliases: u.aliases,
      language: effective.language,
      spamFilter: effective.spamFilter,
      whitelist: effective.whitelist,
      blacklist: effective.blacklist,
      source: t.source,
      hasPassword: t.source === "store" ? t.user.passwordHash !== null : null,
      maxEntries: await maxEntries(u.address),
      locked: locked(s),
      // What the directory says, and which settings the user's own override replaces.
      directory:
        t.source === "store"
          ? null
          : {
              spamFilter: u.spamFilter,
              language: u.language,
              whitelist: u.whitelist,
              blacklist: u.blacklist,
            },
      overridden: {
        spamFilter: o?.spamFilter != null && s.spamFilter,
        language: o?.language != null && s.language,
        whitelist: o?.whitelist != null && s.lists,
        blacklist: o?.blacklist != null && s.lists,
      },
      overrideUpdated: o ? { at: o.updatedAt, by: o.updatedBy } : null,
    };
  };

  /** A user the principal may manage; 404 outside its scope. */
  const target = async (p: Principal, raw: string): Promise<Target> => {
    const a = raw.toLowerCase();
    if (p.role === "user" && a !== p.subject) throw notFound("no such user");
    const stored = await ctx.store.getUser(a);
    if (stored && !configUser(stored.address)) {
      if (p.role !== "user") assertTenant(p, stored.tenant, "no such user");
      return { source: "store", user: stored };
    }
    const du = await directoryUser(a);
    if (!du) throw notFound("no such user");
    if (p.role !== "user") assertTenant(p, du.tenant, "no such user");
    return { source: sourceOf(du.address), user: du, override: await ctx.store.getUserOverride(du.address) };
  };

  const refuseLocked = (what: string) => {
    throw new HttpProblem(
      409,
      "setting locked",
      `${what} is set by the administrator for every user of this tenant (policy.self_service)`,
    );
  };

  const writeOverride = async (p: Principal, t: Target & { source: "config" | "ldap" }, o: UserOverride) => {
    const max = await maxEntries(t.user.address);
    await ctx.store.putUserOverride({ ...o, updatedBy: p.subject }, max).catch((err: unknown) => {
      if (err instanceof ListLimitError) throw limitProblem(err, max);
      throw err;
    });
    overrides()?.flush(t.user.address);
  };

  const emptyOverride = (u: User): UserOverride => ({
    address: u.address,
    tenant: u.tenant,
    spamFilter: null,
    language: null,
    whitelist: null,
    blacklist: null,
    updatedAt: new Date(),
    updatedBy: "",
  });

  const patch = async (p: Principal, a: string, body: Patch) => {
    const t = await target(p, a);
    if (t.source === "store") {
      const before = t.user;
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
      return view({ source: "store", user: after });
    }
    if (body.password !== undefined) {
      throw new HttpProblem(
        409,
        "password not managed here",
        t.source === "config"
          ? `${t.user.address} is defined in the configuration file: set tenants[].users[].password_hash to the output of \`sluice user passwd\``
          : `${t.user.address} is an LDAP user: change the password in the directory`,
      );
    }
    const s = selfService(t.user.tenant);
    if (body.spamFilter !== undefined && !s.spamFilter) refuseLocked("the spam filter");
    if (body.language !== undefined && !s.language) refuseLocked("the notice language");
    const before = t.override ?? emptyOverride(t.user);
    const after: UserOverride = {
      ...before,
      ...(body.spamFilter !== undefined ? { spamFilter: body.spamFilter } : {}),
      ...(body.language !== undefined ? { language: body.language } : {}),
    };
    await writeOverride(p, t, after);
    const fields = (o: UserOverride) => ({ spamFilter: o.spamFilter, language: o.language });
    await ctx.audit(p, "user.override", t.user.address, t.user.tenant, fields(before), fields(after));
    return view({ ...t, override: after });
  };

  const limitProblem = (err: ListLimitError, max: number) =>
    new HttpProblem(422, "list limit exceeded", err.message, { maxEntries: max });

  const setList = async (p: Principal, a: string, kind: ListKind, entries: string[]) => {
    const t = await target(p, a);
    const clean: string[] = [];
    for (const [i, e] of entries.entries()) {
      const r = listEntry.safeParse(e.trim());
      if (!r.success)
        throw badRequest(`entry ${i + 1} ("${e}") is not an address, domain or *@domain`, { entry: i });
      clean.push(r.data);
    }
    const max = await maxEntries(t.user.address);
    const tooMany = () =>
      new HttpProblem(
        422,
        "list limit exceeded",
        `a ${kind} holds at most ${max} entries (got ${clean.length})`,
        {
          maxEntries: max,
          entries: clean.length,
        },
      );
    if (t.source === "store") {
      try {
        await ctx.store.setList(t.user.address, kind, clean, max);
      } catch (err) {
        if (err instanceof ListLimitError) throw tooMany();
        throw err;
      }
      await ctx.audit(p, `user.${kind}`, t.user.address, t.user.tenant, t.user[kind], clean);
      return { address: t.user.address, kind, entries: clean, maxEntries: max, source: t.source };
    }
    if (!selfService(t.user.tenant).lists) refuseLocked("the white/blacklist");
    if (clean.length > max) throw tooMany();
    const before = t.override ?? emptyOverride(t.user);
    await writeOverride(p, t, { ...before, [kind]: clean });
    await ctx.audit(p, `user.${kind}`, t.user.address, t.user.tenant, before[kind] ?? t.user[kind], clean);
    return { address: t.user.address, kind, entries: clean, maxEntries: max, source: t.source };
  };

  // ---- admins ----

  app.get<{ Querystring: { tenant?: string } }>(
    "/api/users",
    {
      schema: {
        summary: "Users of the caller's tenants: configuration file, store, and LDAP users with an override",
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
        const seen = new Set<string>();
        const overridesOf = new Map((await ctx.store.listUserOverrides(t.id)).map((o) => [o.address, o]));
        for (const u of t.users) {
          seen.add(u.address);
          out.push(
            await view({
              source: "config",
              user: userFromConfig(t.id, u),
              override: overridesOf.get(u.address) ?? null,
            }),
          );
        }
        for (const u of await ctx.store.listUsers(t.id)) {
          if (configUser(u.address)) continue;
          seen.add(u.address);
          out.push(await view({ source: "store", user: u }));
        }
        // LDAP users cannot be listed from here; those who changed something have an override.
        for (const o of overridesOf.values()) {
          if (seen.has(o.address)) continue;
          const du = await directoryUser(o.address).catch(() => null);
          if (du && du.tenant === t.id)
            out.push(await view({ source: sourceOf(du.address), user: du, override: o }));
        }
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
      return view({ source: "store", user: u });
    },
  );

  app.get<{ Params: { address: string } }>(
    "/api/users/:address",
    { schema: { summary: "One user", tags: ["users"], params: obj({ address }, ["address"]) } },
    async (req) => view(await target(requireRole(req, "operator", "tenant_admin"), req.params.address)),
  );

  app.put<{ Params: { address: string }; Body: Patch }>(
    "/api/users/:address",
    {
      schema: {
        summary:
          "Change a user's spam filter, language or password (configuration-file and LDAP users: their override)",
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
      const t = await target(p, req.params.address);
      if (t.source !== "store")
        throw new HttpProblem(
          409,
          "user is not managed here",
          `${t.user.address} is defined in ${t.source === "config" ? "the configuration file (tenants[].users)" : "the directory (LDAP)"}; remove it there (DELETE …/override resets what was changed here)`,
        );
      const u = t.user;
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

  app.delete<{ Params: { address: string } }>(
    "/api/users/:address/override",
    {
      schema: {
        summary:
          "Drop what a configuration-file or LDAP user changed here: the directory's values apply again",
        tags: ["users"],
        params: obj({ address }, ["address"]),
      },
    },
    async (req) => {
      const p = requireRole(req, "operator", "tenant_admin");
      const t = await target(p, req.params.address);
      if (t.source === "store")
        throw new HttpProblem(409, "no override", `${t.user.address} is a store user`);
      const removed = await ctx.store.deleteUserOverride(t.user.address);
      overrides()?.flush(t.user.address);
      if (removed)
        await ctx.audit(p, "user.override.delete", t.user.address, t.user.tenant, t.override, null);
      return view({ ...t, override: null });
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
    {
      schema: {
        summary: "The end user's own settings (what is in effect, and what is locked)",
        tags: ["portal"],
      },
    },
    async (req) => {
      const p = requireRole(req, "user");
      const t = await target(p, p.subject);
      const effective = await ctx.runtime.resolver.forRecipient(p.subject);
      const v = await view(t);
      return {
        ...v,
        effectiveSpamFilter: effective.filters["spam-classifier"]?.enabled ?? v.spamFilter !== false,
      };
    },
  );

  app.put<{ Body: Omit<Patch, "password"> }>(
    "/api/me/settings",
    {
      schema: {
        summary:
          "Switch the own spam filter ON/OFF or change the language (null: back to the directory's value)",
        tags: ["portal"],
        body: obj({
          spamFilter: { type: ["boolean", "null"] },
          language: { type: ["string", "null"], enum: ["en", "ja", null] },
        }),
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
