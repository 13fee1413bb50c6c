// Options of the sender-authentication filters, per tenant (tenants[].policy.filters.auth and
// .dkim_sign): validated at configuration load. Shape only — key files are read when signing.
import { z } from "zod";

const ipOrCidr = z
  .string()
  .regex(/^([0-9.]+|[0-9a-f:.]+)(\/\d{1,3})?$/i, "expected an IP address or CIDR, e.g. 192.0.2.0/24");
const hostOrCidr = z.union([
  ipOrCidr,
  z
    .string()
    .regex(/^\.?([a-z0-9-]+\.)+[a-z0-9-]+$/i, "expected an IP, CIDR or host name (.suffix for a domain)"),
]);
const domain = z
  .string()
  .regex(/^([a-z0-9-]+\.)+[a-z0-9-]+$/i, "not a domain name")
  .transform((d) => d.toLowerCase());

export const dnsOptions = z
  .object({
    servers: z.array(z.string().regex(/^(\[[0-9a-f:.]+\]|[0-9.]+|[0-9a-f:]+)(:\d{1,5})?$/i)).default([]),
    timeout_ms: z.number().int().min(100).max(30_000).default(3000),
  })
  .strict();

export const arcSealOptions = z
  .object({
    domain,
    selector: z.string().regex(/^[a-z0-9._-]+$/i, "not a selector"),
    /** PEM file; absent: the key of (domain, selector) kept in the store (`sluice dkim keygen`). */
    private_key_file: z.string().min(1).optional(),
    /** Fields the ARC-Message-Signature covers (Authentication-Results never: we rewrite them). */
    headers: z
      .array(z.string().regex(/^[!-9;-~]+$/, "not a header name"))
      .refine((h) => !h.some((n) => n.toLowerCase() === "authentication-results"), {
        message: "Authentication-Results cannot be covered: forged ones are removed after sealing",
      })
      .optional(),
  })
  .strict();

export const authOptionsSchema = z
  .object({
    /** Our authserv-id (RFC 8601); incoming Authentication-Results claiming it are removed. */
    authserv_id: z
      .string()
      .regex(/^[^\s;]+$/, "an authserv-id has no spaces or ';'")
      .default("sluice"),
    dmarc_reject_action: z.enum(["reject", "quarantine", "tag"]).default("reject"),
    /** p=quarantine failures: quarantine, or only tag. */
    dmarc_quarantine_action: z.enum(["quarantine", "tag"]).default("quarantine"),
    /** Clients whose DMARC failures are forgiven: IPs, CIDRs, or host names (.suffix) of the client. */
    trusted_forwarders: z.array(hostOrCidr).default([]),
    /** ARC sealers (d=) whose valid chain with dmarc=pass in their ARC-Authentication-Results is trusted. */
    trusted_arc_sealers: z.array(domain).default([]),
    sender_id: z.boolean().default(false),
    /** Verify mail from SMTP-authenticated clients too (our own users: off by default). */
    verify_authenticated: z.boolean().default(false),
    /** Run SPF on the HELO name too (RFC 7208 2.3). */
    spf_helo: z.boolean().default(true),
    dns: dnsOptions.default({ servers: [], timeout_ms: 3000 }),
    /** Smallest RSA key accepted for DKIM and ARC (bits). */
    min_key_bits: z.number().int().min(512).max(4096).default(1024),
    /** ARC-seal the mail we verify and pass on (RFC 8617); absent: no sealing. */
    arc_seal: arcSealOptions.optional(),
  })
  .strict();

export type AuthOptions = z.infer<typeof authOptionsSchema>;

const signingKey = z
  .object({
    domain,
    selector: z.string().regex(/^[a-z0-9._-]+$/i, "not a DKIM selector"),
    /** PEM file (PKCS#8 or PKCS#1); domains without a file key use the store's (sluice dkim keygen). */
    private_key_file: z.string().min(1),
    algorithm: z.enum(["rsa-sha256", "ed25519-sha256"]).optional(),
  })
  .strict();

export const DEFAULT_SIGNED_HEADERS = [
  "from",
  "sender",
  "reply-to",
  "subject",
  "date",
  "message-id",
  "to",
  "cc",
  "mime-version",
  "content-type",
  "content-transfer-encoding",
  "in-reply-to",
  "references",
  "list-unsubscribe",
];

export const signOptionsSchema = z
  .object({
    keys: z.array(signingKey).default([]),
    /** Sign mail from these client networks even without SMTP AUTH. */
    internal_networks: z.array(ipOrCidr).default(["127.0.0.1/32", "::1/128"]),
    headers: z.array(z.string().regex(/^[!-9;-~]+$/, "not a header name")).default(DEFAULT_SIGNED_HEADERS),
    canonicalization: z
      .enum(["relaxed/relaxed", "relaxed/simple", "simple/relaxed", "simple/simple"])
      .default("relaxed/relaxed"),
    /** Signature lifetime in seconds (x=); 0: none. */
    expire_s: z.number().int().min(0).default(0),
  })
  .strict();

export type SignOptions = z.infer<typeof signOptionsSchema>;
