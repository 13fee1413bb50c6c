// The `web:` configuration key (zod): the console's listener, the host names it answers to,
// native TLS and the reverse proxies whose forwarded client address is believed. Shape only:
// certificate files are read when the listener starts (src/web/server.ts).
import { isIP } from "node:net";
import { z } from "zod";

const hostPort = z.string().regex(/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):\d{1,5}$/i, "expected host:port");

/** An address or a CIDR block: 10.0.0.0/8, 192.0.2.7, 2001:db8::/32. */
const cidr = z.string().refine((v) => {
  const [ip, bits, extra] = v.split("/");
  const family = isIP(ip ?? "");
  if (!family || extra !== undefined) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}, "expected an address or CIDR block (e.g. 10.0.0.0/8, 2001:db8::/32)");

const hostName = z
  .string()
  .refine(
    (h) =>
      isIP(h.replace(/^\[|\]$/g, "")) !== 0 ||
      /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(h),
    "expected a host name or address, without port",
  )
  .transform((h) => h.toLowerCase().replace(/^\[|\]$/g, ""));

export const webSchema = z
  .object({
    listen: hostPort.default("127.0.0.1:8080"),
    /**
     * Host names (or addresses) the console answers to; any other Host header gets 400, so a
     * DNS-rebinding page cannot reach it. Absent: localhost, 127.0.0.1, ::1, this machine's
     * host name and the listen address.
     */
    hosts: z.array(hostName).min(1).optional(),
    /** Serve HTTPS directly (PEM files); absent: plain HTTP, for loopback or behind a TLS proxy. */
    tls: z
      .object({ cert: z.string().min(1), key: z.string().min(1) })
      .strict()
      .optional(),
    /** Proxies whose X-Forwarded-For, -Host and -Proto are believed (addresses or CIDR blocks). */
    trusted_proxies: z.array(cidr).default([]),
  })
  .strict();

export type WebConfig = z.infer<typeof webSchema>;
