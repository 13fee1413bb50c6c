// The SMTP envelope of one transaction, as either front end (proxy or milter) or
// `sluice scan` fills it. Plain data: no protocol logic, no policy.

export type Ingress = "inbound" | "submission" | "submissions" | "milter" | "scan" | "release";

export interface Address {
  /** The address without angle brackets; "" for the null sender. */
  address: string;
  /** ESMTP parameters (SIZE, BODY, SMTPUTF8, RET, ENVID, NOTIFY, ORCPT …), names upper-cased. */
  params: Record<string, string | true>;
}

export interface Envelope {
  ingress: Ingress;
  client: { address: string; port?: number; name?: string };
  helo: string | null;
  tls: { protocol: string; cipher: string } | null;
  /** Authenticated identity (SMTP AUTH login), if any. */
  auth: string | null;
  mailFrom: Address | null;
  recipients: Address[];
  /** Our own host name as announced to the client. */
  localName: string;
}

export function emptyEnvelope(ingress: Ingress, clientAddress = "127.0.0.1"): Envelope {
  return {
    ingress,
    client: { address: clientAddress },
    helo: null,
    tls: null,
    auth: null,
    mailFrom: null,
    recipients: [],
    localName: "localhost",
  };
}

/** Parse "KEY=VALUE" ESMTP parameters as they follow MAIL FROM / RCPT TO. */
export function parseEsmtpParams(args: readonly string[]): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (const a of args) {
    if (!a) continue;
    const eq = a.indexOf("=");
    if (eq === -1) out[a.toUpperCase()] = true;
    else out[a.slice(0, eq).toUpperCase()] = a.slice(eq + 1);
  }
  return out;
}

export function domainOf(address: string): string {
  const at = address.lastIndexOf("@");
  return at === -1 ? "" : address.slice(at + 1).toLowerCase();
}

/** Strip angle brackets and surrounding space from an SMTP path. */
export function stripPath(path: string): string {
  const t = path.trim();
  return t.startsWith("<") && t.endsWith(">") ? t.slice(1, -1) : t;
}
