// The configuration schema (zod): one YAML file describing the node, its store, listeners,
// the global → role → tenant → user policy and the built-in users. Shape only: filter
// options are checked by each filter at load (load.ts), files and addresses are not opened here.
import { z } from "zod";
import { directorySchema } from "../policy/ldap/config.ts";
import { webSchema } from "./web.ts";
import { compileTemplate } from "../notify/template.ts";
import { DIGEST_VARIABLES, NOTICE_VARIABLES } from "../quarantine/templates.ts";

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

const deliveryTarget = z
  .string()
  .regex(
    /^(maildir:.+|(smtp|lmtp):\/\/(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?\/?)$/i,
    "expected smtp://host:port, lmtp://host:port or maildir:PATH",
  );

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
    /**
     * What users may change for themselves in the portal, over their directory entry (LDAP or
     * tenants[].users): false locks the setting (the directory's or the policy's value holds).
     */
    self_service: z
      .object({
        spam_filter: z.boolean().optional(),
        language: z.boolean().optional(),
        lists: z.boolean().optional(),
      })
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
    /** false: spam over the quarantine threshold is tagged and delivered instead. */
    quarantine: z.boolean().optional(),
    thresholds: thresholdsSchema.optional(),
    whitelist: z.array(listEntry).default([]),
    blacklist: z.array(listEntry).default([]),
    /** scrypt hash as produced by `sluice user passwd`; never a clear password. */
    password_hash: z.string().startsWith("scrypt$", "expected an scrypt$ hash").optional(),
    send_as: z.array(address).default([]),
    /** This user's own sending limits when authenticated (the ratelimit filter's user limits otherwise). */
    rate_limits: z
      .object({
        messages_per_hour: z.number().int().min(0).optional(),
        recipients_per_hour: z.number().int().min(0).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const templatePair = z.object({ subject: z.string().max(900), body: z.string().max(20_000) }).strict();
/** Templates compiled at load, so an unknown {variable} fails here with its path, not at send time. */
const templatesByLanguage = (allowed: readonly string[]) =>
  z
    .object({ en: templatePair.optional(), ja: templatePair.optional() })
    .strict()
    .superRefine((t, ctx) => {
      for (const lang of ["en", "ja"] as const) {
        for (const part of ["subject", "body"] as const) {
          const src = t[lang]?.[part];
          if (src === undefined) continue;
          try {
            compileTemplate(src, allowed, part);
          } catch (err) {
            const message = (err as Error).message.slice(part.length + 2);
            ctx.addIssue({ code: "custom", path: [lang, part], message });
          }
        }
      }
    });

/** Per-tenant quarantine settings (src/quarantine/): retention and the per-user digest. */
export const tenantQuarantineSchema = z
  .object({
    retention_days: z.number().positive().max(3650).default(30),
    /** Entries with no quarantined recipient left are deleted this long after creation. */
    purge_after_days: z.number().positive().max(3650).default(60),
    digest: z
      .object({
        enabled: z.boolean().default(false),
        interval_minutes: z.number().int().min(5).max(44_640).default(1440),
        /** Base URL of the console's link handler; links are BASE?t=TOKEN. */
        link_base: z.string().url(),
        link_ttl_hours: z
          .number()
          .positive()
          .max(24 * 60)
          .default(72),
        from: address.optional(),
        templates: templatesByLanguage(DIGEST_VARIABLES).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** Per-tenant hold queue settings (src/quarantine/): sender notice, approval mode. */
export const tenantHoldSchema = z
  .object({
    notify_sender: z.boolean().default(true),
    /** Base URL of the console's link handler for "send now" / "cancel" (absent: no links). */
    link_base: z.string().url().optional(),
    from: address.optional(),
    notice_templates: templatesByLanguage(NOTICE_VARIABLES).optional(),
    /** Added as Bcc to every held message when it is released. */
    supervisor_bcc: z.array(address).default([]),
    approval: z
      .object({
        approvers: z.array(address).min(1),
        max_wait_minutes: z.number().int().positive().max(43_200).default(1440),
        on_timeout: z.enum(["cancel", "release"]).default("cancel"),
      })
      .strict()
      .optional(),
  })
  .strict();

export const tenantSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "tenant ids are lower-case letters, digits, - and _"),
    domains: z.array(domainName).min(1, "a tenant owns at least one domain"),
    language: z.enum(["en", "ja"]).default("en"),
    split_mixed_policies: z.enum(["fanout", "defer"]).default("fanout"),
    /** Refuse unknown local recipients at RCPT (550 5.1.1); off when only the next hop knows them. */
    verify_recipients: z.boolean().default(true),
    delivery: deliveryTarget.optional(),
    /** Per-domain next hops inside the tenant (a domain not listed uses `delivery`). */
    routes: z.record(domainName, deliveryTarget).default({}),
    policy: policySchema.optional(),
    quarantine: tenantQuarantineSchema.optional(),
    hold: tenantHoldSchema.optional(),
    /** Every notice the tenant sends (virus, hold, digest, Sieve): one sender on its own domain. */
    notices: z
      .object({
        /** Header From (default postmaster@ the first domain); must be on one of the tenant's domains. */
        from: address.optional(),
        /** DKIM-sign notices with the tenant's key for the From domain, when it has one. */
        dkim: z.boolean().default(true),
      })
      .strict()
      .optional(),
    /**
     * Generation of the tenant's link key (digest and hold-notice links). Raising it by one
     * signs new links with a new key while links of the previous generation still work until
     * they expire; raising it by two revokes every outstanding link of the tenant.
     */
    link_key_generation: z.number().int().min(0).default(0),
    users: z.array(userSchema).default([]),
  })
  .strict()
  .superRefine((t, ctx) => {
    const from = t.notices?.from;
    if (!from) return;
    const d = from.slice(from.lastIndexOf("@") + 1).toLowerCase();
    if (!t.domains.some((own) => d === own || d.endsWith(`.${own}`)))
      ctx.addIssue({
        code: "custom",
        path: ["notices", "from"],
        message: `${from} is not on a domain of this tenant (${t.domains.join(", ")}): notices from another domain fail DMARC`,
      });
  });

const tlsFiles = z.object({ cert: z.string(), key: z.string() }).strict();

const listenerFields = (listen: string) => ({
  enabled: z.boolean().default(true),
  listen: hostPort.default(listen),
  tls: tlsFiles.optional(),
  proxy_protocol: z.boolean().default(false),
  /** Allow AUTH without TLS: only for loopback tests. */
  allow_insecure_auth: z.boolean().default(false),
});

const listener = (listen: string) =>
  z
    .object(listenerFields(listen))
    .strict()
    .default({ enabled: true, listen, proxy_protocol: false, allow_insecure_auth: false });

/** Postfix postscreen's pregreet test (inbound only): a client that talks before the greeting is refused. */
export const pregreetSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** How long the client must stay silent before the greeting (postscreen_greet_wait; 0: only what it sent already). */
    wait_ms: z.number().int().min(0).max(30_000).default(2000),
    /** Send the first greeting line as "220-" first, as postscreen does: bots answer it at once. */
    teaser: z.boolean().default(true),
    /** reject: 521 5.5.1 and close; log: only log and count (a dry run). */
    action: z.enum(["reject", "log"]).default("reject"),
    /** A client that passed is not made to wait again for this long (per node). */
    pass_ttl_s: z.number().int().min(0).default(86_400),
  })
  .strict();

const inboundListener = (listen: string) =>
  z
    .object({ ...listenerFields(listen), pregreet: pregreetSchema.optional() })
    .strict()
    .default({ enabled: true, listen, proxy_protocol: false, allow_insecure_auth: false });

export const smtpSchema = z
  .object({
    hostname: z.string().min(1).default("localhost"),
    tls: tlsFiles.optional(),
    listeners: z
      .object({
        inbound: inboundListener("127.0.0.1:2525"),
        submission: listener("127.0.0.1:2587"),
        submissions: listener("127.0.0.1:2465"),
      })
      .strict()
      .prefault({}),
    limits: z
      .object({
        max_recipients: z.number().int().positive().default(100),
        max_line_length: z.number().int().min(512).default(4096),
        max_connections_per_ip: z.number().int().positive().default(20),
        max_connections: z.number().int().positive().default(1000),
        /** Waiting for the first byte of a command (RFC 5321 4.5.3.2.7: at least 5 minutes). */
        idle_timeout_s: z.number().positive().default(300),
        /** From the first byte of a command line to its CRLF: per line, not per byte (slowloris). */
        command_timeout_s: z.number().positive().default(60),
        /** DATA: initial time credit and its cap; the client earns more by sending (below). */
        data_timeout_s: z.number().positive().default(180),
        /** DATA: bytes per second that keep the credit from running out (Postfix smtpd_min_data_rate). */
        min_data_rate: z.number().positive().default(500),
        session_timeout_s: z.number().positive().default(1800),
        max_commands: z.number().int().positive().default(10_000),
        max_errors: z.number().int().positive().default(10),
        next_hop_timeout_s: z.number().positive().default(120),
      })
      .strict()
      .prefault({}),
    auth: z
      .object({
        failure_delay_ms: z.number().int().min(0).default(500),
        max_failures: z.number().int().positive().default(10),
        window_s: z.number().positive().default(900),
      })
      .strict()
      .prefault({}),
  })
  .strict();

const milterSocket = z
  .string()
  .regex(
    /^(inet:[^\s]+|inet6:[^\s]+|unix:\/.+)$/,
    "expected inet:HOST:PORT, inet6:[ADDR]:PORT or unix:/path",
  );

export const milterSchema = z
  .object({
    enabled: z.boolean().default(true),
    listen: z.array(milterSocket).min(1).default(["inet:127.0.0.1:8899"]),
    /** store: Sluice's own quarantine; mta: the MTA's hold queue (Postfix) for wholly quarantined mail. */
    quarantine_mode: z.enum(["store", "mta"]).default("store"),
    /** A milter-less MTA listener for copies whose outcome differs (e.g. smtp://127.0.0.1:10026). */
    reinject: z
      .string()
      .regex(/^smtp:\/\/[^\s/:]+:\d{1,5}$/, "expected smtp://HOST:PORT")
      .optional(),
    /** Unix sockets (listen: unix:/path): set right after binding so the MTA may connect. */
    unix_socket: z
      .object({
        mode: z
          .string()
          .regex(/^0?[0-7]{3}$/, "an octal mode such as 0660")
          .optional(),
        owner: z.string().min(1).optional(),
        group: z.string().min(1).optional(),
      })
      .strict()
      .default({}),
    progress_interval_ms: z.number().int().min(0).default(5000),
    /** Postfix {daemon_name} → ingress, so submission traffic is treated as outbound. */
    daemon_ingress: z.record(z.string(), z.enum(["inbound", "submission", "submissions"])).default({}),
  })
  .strict();

export const configSchema = z
  .object({
    node: z
      .object({
        name: z.string().min(1).optional(),
        role: z.string().min(1).default("default"),
        /** HMAC key of digest and hold links: node-local, never published with the tenant config. */
        link_secret: z.string().min(32, "at least 32 characters").optional(),
        /** Node-local state (the last applied cluster revision); default: the spool's parent folder. */
        state_dir: z.string().min(1).optional(),
      })
      .strict()
      .default({ role: "default" }),
    store: z.string().default("sqlite:./var/sluice.db"),
    /**
     * Node-local secrets, never published with the cluster configuration. key_file: 32 bytes
     * (raw, 64 hex digits or base64) encrypting DKIM private keys in the store; absent: the
     * SLUICE_SECRET_KEY environment variable.
     */
    secrets: z
      .object({ key_file: z.string().min(1).optional() })
      .strict()
      .default({}),
    log: z
      .object({
        level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
      })
      .strict()
      .default({ level: "info" }),
    web: webSchema.prefault({}),
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
        /** Longest line inside a message (header or body), without CRLF; longer: 554 5.6.0. */
        line_bytes: z.number().int().min(998).default(131_072),
        /** NUL bytes inside a message: refuse it (554 5.6.0) or take it without them. */
        nul_bytes: z.enum(["reject", "strip"]).default("reject"),
      })
      .strict()
      .prefault({}),
    delivery: deliveryTarget.default("maildir:./var/maildir"),
    smtp: smtpSchema.prefault({}),
    milter: milterSchema.prefault({}),
    policy: policySchema.default({}),
    roles: z.record(z.string(), z.object({ policy: policySchema.default({}) }).strict()).default({}),
    tenants: z.array(tenantSchema).default([]),
    /** Where users come from: absent or type builtin = tenants[].users + the store; or LDAP. */
    directory: directorySchema.optional(),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type SmtpConfig = z.infer<typeof smtpSchema>;
export type PolicySpec = z.infer<typeof policySchema>;
export type TenantConfig = z.infer<typeof tenantSchema>;
export type TenantQuarantineConfig = z.infer<typeof tenantQuarantineSchema>;
export type TenantHoldConfig = z.infer<typeof tenantHoldSchema>;
export type UserConfig = z.infer<typeof userSchema>;
