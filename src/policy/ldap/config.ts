// The `directory:` configuration key (zod): built-in users (default) or an LDAP directory with
// its connection, per-tenant base DNs, filter template, attribute map and cache. Shape only:
// files (CA, password file) are read and tenants cross-checked when the directory is built.
import { z } from "zod";

/** Where each User field is read from; a field mapped to "" is not read at all. */
export const attributeMapSchema = z
  .object({
    id: z.string().default("uid"),
    address: z.string().default("mail"),
    aliases: z.string().default("mailAlternateAddress"),
    language: z.string().default("sluiceLanguage"),
    spam_filter: z.string().default("sluiceSpamFilter"),
    quarantine: z.string().default("sluiceQuarantine"),
    tag_threshold: z.string().default("sluiceSpamTagThreshold"),
    quarantine_threshold: z.string().default("sluiceSpamQuarantineThreshold"),
    reject_threshold: z.string().default("sluiceSpamRejectThreshold"),
    whitelist: z.string().default("sluiceWhitelist"),
    blacklist: z.string().default("sluiceBlacklist"),
    send_as: z.string().default("sluiceSendAs"),
    rate_messages_per_hour: z.string().default("sluiceRateMessagesPerHour"),
    rate_recipients_per_hour: z.string().default("sluiceRateRecipientsPerHour"),
  })
  .strict();

const filterTemplate = z
  .string()
  .regex(/^\(.*\)$/s, "an LDAP filter in parentheses")
  .refine((f) => f.includes("{address}") || f.includes("{local}"), "must use {address} or {local}")
  .refine(
    (f) => [...f.matchAll(/\{([a-z_]+)\}/g)].every((m) => ["address", "local", "domain"].includes(m[1]!)),
    "placeholders are {address}, {local} and {domain}",
  );

export const cacheSchema = z
  .object({
    /** How long a found user is served without asking the directory. */
    ttl_s: z.number().min(0).default(300),
    /** How long "no such user" is remembered. */
    negative_ttl_s: z.number().min(0).default(60),
    /** How long past ttl_s a found user may still be served while the directory is down. */
    stale_s: z.number().min(0).default(3600),
    max_entries: z.number().int().positive().default(100_000),
    /** After a failure, answer from cache/fallback without asking the directory for this long. */
    down_retry_s: z.number().min(0).default(2),
  })
  .strict();

export const ldapDirectorySchema = z
  .object({
    type: z.literal("ldap"),
    url: z.string().regex(/^ldaps?:\/\/[^/\s]+\/?$/i, "expected ldap://host[:port] or ldaps://host[:port]"),
    bind_dn: z.string().min(1).optional(),
    bind_password: z.string().optional(),
    /** A file holding the service password (first line), instead of bind_password. */
    bind_password_file: z.string().optional(),
    /** PEM CA bundle for ldaps:// and StartTLS; absent: the system CAs. */
    ca_file: z.string().optional(),
    starttls: z.boolean().default(false),
    timeout_ms: z.number().int().positive().max(60_000).default(3000),
    pool_size: z.number().int().min(1).max(64).default(4),
    /** Search base for tenants without their own base_dn (and for logins without a tenant). */
    base_dn: z.string().min(1).optional(),
    filter: filterTemplate.default("(|(mail={address})(mailAlternateAddress={address}))"),
    /** Filter for SMTP AUTH logins; default: the lookup filter with the login as {address}. */
    auth_filter: filterTemplate.optional(),
    attributes: attributeMapSchema.prefault({}),
    tenants: z
      .record(
        z.string(),
        z.object({ base_dn: z.string().min(1), filter: filterTemplate.optional() }).strict(),
      )
      .default({}),
    cache: cacheSchema.prefault({}),
    /** Directory down and nothing cached: answer 451 (tempfail) or apply the tenant's defaults. */
    on_unavailable: z.enum(["tempfail", "defaults"]).default("tempfail"),
  })
  .strict()
  .refine((d) => !(d.bind_password !== undefined && d.bind_password_file !== undefined), {
    message: "give bind_password or bind_password_file, not both",
  })
  .refine((d) => d.bind_dn !== undefined || (!d.bind_password && !d.bind_password_file), {
    message: "bind_password without bind_dn",
  })
  .refine((d) => !(d.starttls && d.url.toLowerCase().startsWith("ldaps:")), {
    message: "starttls is for ldap:// URLs; ldaps:// is TLS already",
  });

export const builtinDirectorySchema = z.object({ type: z.literal("builtin") }).strict();

export const directorySchema = z.discriminatedUnion("type", [builtinDirectorySchema, ldapDirectorySchema]);

export type DirectoryConfig = z.infer<typeof directorySchema>;
export type LdapDirectoryConfig = z.infer<typeof ldapDirectorySchema>;
export type AttributeMap = z.infer<typeof attributeMapSchema>;
export type CacheConfig = z.infer<typeof cacheSchema>;
