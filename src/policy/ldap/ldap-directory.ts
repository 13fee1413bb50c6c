// The LDAP directory (ldapts): finds a user under their tenant's base DN with the configured
// filter template (RFC 4515 escaped values), maps the entry, and authenticates by binding as the
// found DN on a connection of its own. No caching here (cached-directory.ts wraps it); every
// failure to get an answer is a DirectoryError. Trusts the directory's data only after checks.
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import type { ConnectionOptions } from "node:tls";
import { InvalidCredentialsError, NoSuchObjectError, SizeLimitExceededError, type Entry } from "ldapts";
import type { Logger } from "pino";
import { ConfigError } from "../../config/errors.ts";
import type { TenantConfig } from "../../config/schema.ts";
import { domainOf } from "../../message/envelope.ts";
import { DirectoryError, type Directory } from "../directory.ts";
import type { User } from "../../message/types.ts";
import { entryToUser, requestedAttributes } from "./attributes.ts";
import type { LdapDirectoryConfig } from "./config.ts";
import { renderFilter } from "./filter.ts";
import { LdapPool, openConn, withDeadline, type PoolOptions } from "./pool.ts";

export interface LdapDirectoryOptions {
  config: LdapDirectoryConfig;
  tenants: readonly Pick<TenantConfig, "id" | "domains">[];
  log?: Logger;
}

interface Found {
  entry: Entry;
  tenant: string;
}

export class LdapDirectory implements Directory {
  private readonly cfg: LdapDirectoryConfig;
  private readonly pool: LdapPool;
  private readonly poolOpts: PoolOptions;
  private readonly tenantByDomain = new Map<string, string>();
  private readonly attrs: string[];
  private readonly log: Logger | undefined;

  constructor(opts: LdapDirectoryOptions) {
    const cfg = opts.config;
    this.cfg = cfg;
    this.log = opts.log;
    for (const t of opts.tenants) {
      if (!cfg.tenants[t.id] && !cfg.base_dn) {
        throw problem(
          `tenants.${t.id}.base_dn`,
          `tenant "${t.id}" has no base DN (nor is directory.base_dn set)`,
        );
      }
      for (const d of t.domains) this.tenantByDomain.set(d, t.id);
    }
    for (const id of Object.keys(cfg.tenants)) {
      if (!opts.tenants.some((t) => t.id === id)) throw problem(`tenants.${id}`, "no such tenant");
    }
    const host = new URL(cfg.url).hostname.replace(/^\[|\]$/g, "");
    const tls: ConnectionOptions = { host, ...(isIP(host) ? {} : { servername: host }) };
    if (cfg.ca_file) tls.ca = readConfigured("ca_file", cfg.ca_file);
    const password =
      cfg.bind_password_file !== undefined
        ? readConfigured("bind_password_file", cfg.bind_password_file).toString("utf8").split(/\r?\n/)[0]
        : cfg.bind_password;
    this.poolOpts = {
      url: cfg.url,
      tls,
      starttls: cfg.starttls,
      bindDn: cfg.bind_dn,
      bindPassword: password,
      timeoutMs: cfg.timeout_ms,
      size: cfg.pool_size,
      idleMs: 60_000,
    };
    this.pool = new LdapPool(this.poolOpts);
    this.attrs = requestedAttributes(cfg.attributes);
  }

  /** The tenant an address belongs to, or null when no tenant owns its domain. */
  tenantOf(address: string): string | null {
    return this.tenantByDomain.get(domainOf(address)) ?? null;
  }

  async lookup(address: string): Promise<User | null> {
    const found = await this.find(address, "lookup");
    return found ? this.toUser(found) : null;
  }

  async authenticate(login: string, secret: string): Promise<User | null> {
    // An empty password would be an unauthenticated bind (RFC 4513 5.1.2): success, no check.
    if (!secret) return null;
    const found = await this.find(login, "auth");
    if (!found) return null;
    const user = this.toUser(found);
    if (!user) return null;
    let conn: Awaited<ReturnType<typeof openConn>> | null = null;
    try {
      await withDeadline(
        this.cfg.timeout_ms,
        async () => {
          conn = await openConn(this.poolOpts);
          await conn.client.bind(found.entry.dn, secret);
        },
        () => (conn as { destroy(): void } | null)?.destroy(),
      );
      return user;
    } catch (err) {
      if (err instanceof InvalidCredentialsError) return null;
      throw new DirectoryError(`LDAP bind as user failed: ${(err as Error).message}`, { cause: err });
    } finally {
      void (conn as { close(): Promise<void> } | null)?.close();
    }
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private baseFor(tenant: string | null): string | null {
    return (tenant ? this.cfg.tenants[tenant]?.base_dn : undefined) ?? this.cfg.base_dn ?? null;
  }

  private async find(address: string, purpose: "lookup" | "auth"): Promise<Found | null> {
    const tenant = this.tenantOf(address);
    // Addresses of no tenant are not ours to look up; logins without a domain search base_dn.
    if (!tenant && (purpose === "lookup" || address.includes("@"))) return null;
    const base = this.baseFor(tenant);
    if (!base) return null;
    const template =
      (purpose === "auth" ? this.cfg.auth_filter : undefined) ??
      (tenant ? this.cfg.tenants[tenant]?.filter : undefined) ??
      this.cfg.filter;
    const filter = renderFilter(template, address);
    let entries: Entry[];
    try {
      entries = await this.pool.use(
        async (c) =>
          (
            await c.search(base, {
              scope: "sub",
              filter,
              attributes: this.attrs,
              sizeLimit: 2,
              timeLimit: Math.max(1, Math.ceil(this.cfg.timeout_ms / 1000)),
            })
          ).searchEntries,
      );
    } catch (err) {
      if (err instanceof SizeLimitExceededError) {
        this.log?.warn({ address, base }, "directory: more than one entry matches; treating as unknown");
        return null;
      }
      const why =
        err instanceof NoSuchObjectError ? `base DN ${base} does not exist` : (err as Error).message;
      throw new DirectoryError(`LDAP search failed: ${why}`, { cause: err });
    }
    if (entries.length > 1) {
      this.log?.warn({ address, base }, "directory: more than one entry matches; treating as unknown");
      return null;
    }
    const entry = entries[0];
    if (!entry) return null;
    return {
      entry,
      tenant: tenant ?? this.tenantOf(String(firstValue(entry, this.cfg.attributes.address))) ?? "",
    };
  }

  private toUser(found: Found): User | null {
    if (!found.tenant) return null;
    const mapped = entryToUser(found.entry, this.cfg.attributes, found.tenant);
    if (!mapped) {
      this.log?.warn({ dn: found.entry.dn }, "directory: entry has no usable primary address");
      return null;
    }
    if (mapped.warnings.length) {
      this.log?.warn(
        { dn: found.entry.dn, problems: mapped.warnings },
        "directory: ignored bad attribute values",
      );
    }
    return mapped.user;
  }
}

function problem(path: string, message: string): ConfigError {
  return new ConfigError([{ file: "(configuration)", line: null, path: `directory.${path}`, message }]);
}

function readConfigured(key: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw problem(key, `cannot read ${file}: ${(err as Error).message}`);
  }
}

function firstValue(entry: Entry, attr: string): string {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === attr.toLowerCase());
  const v = key ? entry[key] : undefined;
  const x = Array.isArray(v) ? v[0] : v;
  return x === undefined ? "" : Buffer.isBuffer(x) ? x.toString("utf8") : String(x);
}
