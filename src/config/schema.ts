// The configuration schema (zod): one YAML file describing the node, its store, listeners,
// the global → role → tenant → user policy and the built-in users. Shape only: filter
// options are checked by each filter at load (load.ts), files and addresses are not opened here.
import { z } from "zod";

const domainName = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, "not a domain name")
  .transform((d) => d.toLowerCase());

const address = z
  .string()
  .regex(/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/, "not a mail address")
  .transform((a) => a.toLowerCase());

/** A list entry: an address, a domain, or *@domain. */
export const listEntry = z
  .string()
  .regex(/^(\*@)?[^\s@<>]+(\.[^\s@<>]+)+$|^[^\s@<>]+@[^\s@<>]+$/, "not an address, domain or *@domain")
  .transform((e) => e.toLowerCase());

const hostPort = z.string().regex(/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):\d{1,5}$/i, "expected host:port");

const onError = z.enum(["tempfail", "accept", "reject"]);

export const thresholdsSchema = z
  .object({
    tag: z.number().nullable().optional(),
    quarantine: z.number().nullable().optional(),
    reject: z.number().nullable().optional(),
  })
  .strict();

const filterPolicy = z
  .object({
    enabled: z.boolean().optional(),
    priority: z.number().int().optional(),
    timeout_ms: z.number().int().positive().max(600_000).optional(),
    on_error: onError.optional(),
    options: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export const policySchema = z
  .object({
    thresholds: thresholdsSchema.optional(),
    on_error: onError.optional(),
    filters: z.record(z.string(), filterPolicy).optional(),
    scores: z
      .record(z.string().regex(/^[A-Z0-9_]+$/, "symbol names are A-Z, 0-9 and _"), z.number())
      .optional(),
    spam_filter: z.boolean().optional(),
    lists: z
      .object({
        max_entries: z.number().int().min(0).max(10_000).optional(),
        blacklist_action: z.enum(["reject", "quarantine"]).optional(),
      })
      .strict()
      .optional(),
    tag: z
      .object({ subject_prefix: z.string().max(64).optional(), headers: z.boolean().optional() })
      .strict()
      .optional(),
  })
  .strict();

export const userSchema = z
  .object({
    address,
    aliases: z.array(address).default([]),
    language: z.enum(["en", "ja"]).optional(),
    spam_filter: z.boolean().optional(),
    thresholds: thresholdsSchema.optional(),
    whitelist: z.array(listEntry).default([]),
    blacklist: z.array(listEntry).default([]),
    /** scrypt hash as produced by `sluice user passwd`; never a clear password. */
    password_hash: z.string().startsWith("scrypt$", "expected an scrypt$ hash").optional(),
    send_as: z.array(address).default([]),
  })
  .strict();

export const tenantSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "tenant ids are lower-case letters, digits, - and _"),
    domains: z.array(domainName).min(1, "a tenant owns at least one domain"),
    language: z.enum(["en", "ja"]).default("en"),
    split_mixed_policies: z.enum(["fanout", "defer"]).default("fanout"),
    delivery: z.string().optional(),
    policy: policySchema.optional(),
    users: z.array(userSchema).default([]),
  })
  .strict();

export const configSchema = z
  .object({
    node: z
      .object({ name: z.string().min(1).optional(), role: z.string().min(1).default("default") })
      .strict()
      .default({ role: "default" }),
    store: z.string().default("sqlite:./var/sluice.db"),
    log: z
      .object({
        level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
      })
      .strict()
      .default({ level: "info" }),
    web: z
      .object({ listen: hostPort.default("127.0.0.1:8080") })
      .strict()
      .default({ listen: "127.0.0.1:8080" }),
    spool: z
      .object({
        dir: z.string().default("./var/spool"),
        memory_bytes: z.number().int().min(0).default(262_144),
      })
      .strict()
      .default({ dir: "./var/spool", memory_bytes: 262_144 }),
    limits: z
      .object({
        message_bytes: z.number().int().positive().default(52_428_800),
        header_bytes: z.number().int().positive().default(1_048_576),
      })
      .strict()
      .default({ message_bytes: 52_428_800, header_bytes: 1_048_576 }),
    delivery: z.string().default("maildir:./var/maildir"),
    policy: policySchema.default({}),
    roles: z.record(z.string(), z.object({ policy: policySchema.default({}) }).strict()).default({}),
    tenants: z.array(tenantSchema).default([]),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type PolicySpec = z.infer<typeof policySchema>;
export type TenantConfig = z.infer<typeof tenantSchema>;
export type UserConfig = z.infer<typeof userSchema>;
