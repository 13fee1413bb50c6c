// Options of the connection-level defences (policy.filters.<name>.options, per tenant): DNS
// lists of client addresses (dnsbl) and of body URL domains (uribl), greylisting, rate limits.
// Shape and defaults only; zones are compiled once per parsed options object (lookup.ts).
import { z } from "zod";
import { dnsOptions } from "../auth/options.ts";
import { compileCode } from "./zone-answer.ts";
import { isNetwork } from "./ip.ts";

const symbolName = z.string().regex(/^[A-Z0-9_]{1,64}$/, "symbol names are A-Z, 0-9 and _");

const codeRule = z.union([
  symbolName.transform((symbol) => ({ symbol })),
  z.object({ symbol: symbolName, score: z.number().optional() }).strict(),
]);

const codePattern = z.string().superRefine((p, ctx) => {
  try {
    compileCode(p);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
  }
});

const zoneName = z
  .string()
  .regex(/^(?=.{1,200}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z0-9-]{2,63}\.?$/i, "not a DNS zone")
  .transform((z) => z.toLowerCase().replace(/\.$/, ""));

export const network = z.string().refine(isNetwork, "expected an IP address or CIDR, e.g. 192.0.2.0/24");

/** Loopback, private and link-local networks: never looked up in a public list. */
export const PRIVATE_NETWORKS = [
  "127.0.0.0/8",
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "169.254.0.0/16",
  "100.64.0.0/10",
  "::1/128",
  "fc00::/7",
  "fe80::/10",
];

const zoneFields = {
  zone: zoneName,
  /** block: a hit adds its (positive) score; allow (DNSWL): its (negative) score, and skips groups. */
  type: z.enum(["block", "allow"]).default("block"),
  /** Symbol of a listed answer that no `codes` or `bits` entry names. */
  symbol: symbolName,
  score: z.number(),
  /** Return code (127.0.0.2, 127.0.1.0/24, 127.0.*.3) → symbol or { symbol, score }. */
  codes: z.record(codePattern, codeRule).default({}),
  /** SURBL/URIBL style: bit of the last octet (2, 4, 8 …) → symbol or { symbol, score }. */
  bits: z.record(z.string().regex(/^\d{1,3}$/, "a bit value such as 2, 4, 8"), codeRule).default({}),
  /** More codes meaning "query refused" besides 127.255.255.x and 127.0.0.1 (e.g. 127.0.1.255). */
  refused: z.array(codePattern).default([]),
  /** score: add the symbol; reject: refuse (RCPT for client lists, end of DATA for URI lists). */
  action: z.enum(["score", "reject"]).default("score"),
  /** Ask for the listing's TXT reason and show it in the reply and the log. */
  txt: z.boolean().default(false),
};

const zoneRefinements = <T extends { type: string; action: string }>(s: z.ZodType<T>) =>
  s.refine((zn) => !(zn.type === "allow" && zn.action === "reject"), {
    message: "an allow list (DNSWL) cannot reject",
  });

export const clientZoneSchema = zoneRefinements(
  z
    .object({
      ...zoneFields,
      /** The list answers reversed-nibble IPv6 queries (most do: Spamhaus, DNSWL). */
      ipv6: z.boolean().default(true),
      /** Filter groups a hit skips for the recipient (allow lists: greylisting by default). */
      skip: z.array(z.string().regex(/^[a-z0-9_-]+$/)).optional(),
    })
    .strict(),
);

export const uriZoneSchema = zoneRefinements(z.object(zoneFields).strict());

export type ClientZone = z.infer<typeof clientZoneSchema>;
export type UriZone = z.infer<typeof uriZoneSchema>;

const dnsDefault = { servers: [], timeout_ms: 3000 };

export const dnsblOptionsSchema = z
  .object({
    /** The shared resolver (same servers and timeout as another filter: the same cache). */
    dns: dnsOptions.default(dnsDefault),
    zones: z.array(clientZoneSchema).default([]),
    /** Client networks never looked up (loopback, private ranges by default). */
    exempt_networks: z.array(network).default(PRIVATE_NETWORKS),
    /** Look up SMTP-authenticated clients too (off: users on dynamic addresses may send). */
    check_authenticated: z.boolean().default(false),
  })
  .strict();

export const uriblOptionsSchema = z
  .object({
    dns: dnsOptions.default(dnsDefault),
    zones: z.array(uriZoneSchema).default([]),
    /** Distinct registrable domains (and IP hosts) looked up per message; the rest are ignored. */
    max_domains: z.number().int().min(1).max(200).default(20),
    /** Registrable domains never looked up (your own, big providers). */
    skip_domains: z.array(z.string().transform((d) => d.toLowerCase())).default([]),
    /** Look up IP-address URL hosts (reversed, like client lists). */
    ip_hosts: z.boolean().default(true),
  })
  .strict();

export const greylistOptionsSchema = z
  .object({
    /** A new triplet is accepted once it is retried after this long. */
    delay_s: z.number().int().min(0).max(86_400).default(300),
    /** …and before this long (after that the wait starts over). */
    retry_window_s: z
      .number()
      .int()
      .min(60)
      .max(30 * 86_400)
      .default(2 * 86_400),
    /** A passed triplet is remembered this long after it was last seen. */
    expiry_s: z
      .number()
      .int()
      .min(3600)
      .max(366 * 86_400)
      .default(35 * 86_400),
    /** A client network with this many passes is no longer greylisted (0: never). */
    auto_allow_after: z.number().int().min(0).default(5),
    /** …for this long after its last pass. */
    auto_allow_expiry_s: z
      .number()
      .int()
      .min(3600)
      .max(366 * 86_400)
      .default(35 * 86_400),
    prefix_v4: z.number().int().min(8).max(32).default(24),
    prefix_v6: z.number().int().min(16).max(128).default(64),
    /** Client networks never greylisted. */
    allow_networks: z.array(network).default(["127.0.0.0/8", "::1/128"]),
  })
  .strict();

const perHour = z
  .object({
    /** 0: no limit. */
    messages: z.number().int().min(0).default(0),
    recipients: z.number().int().min(0).default(0),
  })
  .strict()
  .prefault({});

export const ratelimitOptionsSchema = z
  .object({
    /** Length of one counting window (the limits are per window; the previous one is weighed in). */
    window_s: z.number().int().min(10).max(86_400).default(3600),
    /** Per client network (prefix_v4 / prefix_v6 below). */
    client: perHour,
    prefix_v4: z.number().int().min(8).max(32).default(32),
    prefix_v6: z.number().int().min(16).max(128).default(64),
    /** Per SMTP-authenticated login (the compromised-account case); LDAP may set one user's own. */
    user: perHour,
    /** Per envelope sender domain. */
    sender_domain: perHour,
    /** Messages per recipient address (recipients: unused). */
    recipient: perHour,
    /** Client networks without limits. */
    exempt_networks: z.array(network).default([]),
    /** Tell these tenant admins when one of their users goes over a limit (at most once per interval). */
    notify: z
      .object({
        to: z.array(z.string().regex(/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/, "not a mail address")).min(1),
        from: z
          .string()
          .regex(/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/, "not a mail address")
          .optional(),
        interval_s: z.number().int().min(60).default(3600),
      })
      .strict()
      .optional(),
  })
  .strict();

export type DnsblOptions = z.infer<typeof dnsblOptionsSchema>;
export type UriblOptions = z.infer<typeof uriblOptionsSchema>;
export type GreylistOptions = z.infer<typeof greylistOptionsSchema>;
export type RatelimitOptions = z.infer<typeof ratelimitOptionsSchema>;
