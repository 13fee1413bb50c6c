// The names a URI list (SURBL, URIBL, Spamhaus DBL) is asked about for a message body: the
// registrable domain of each URL host by the Public Suffix List (tldts, ICANN section: what the
// lists key on), IDNs as A-labels, and IPv4 hosts reversed. Bounded: a body full of random
// domains (an NXDOMAIN storm in the making) yields at most `max` names.
import { domainToASCII } from "node:url";
import { getDomain } from "tldts";
import { isIPv4 } from "node:net";

export interface UrlName {
  /** What is asked: "example.co.uk", or "1.2.0.192" for http://192.0.2.1/. */
  label: string;
  /** What the body said (the host), for the log and the trace. */
  host: string;
  ip: boolean;
}

const URL_RE =
  /\b(?:(?:https?|ftp):\/\/(?:[^\s/?#"'<>\\@]{0,256}@)?|(www\.))([^\s/?#"'<>\\:;,()[\]{}|]{1,253})/giu;
const MAX_MATCHES = 5000;
const DNS_NAME =
  /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)+$/;

/** Distinct names to look up for the URLs in `texts`, in order of appearance, at most `max`. */
export function urlNames(
  texts: readonly string[],
  max: number,
  skip: ReadonlySet<string> = new Set(),
): UrlName[] {
  const out = new Map<string, UrlName>();
  let matches = 0;
  for (const text of texts) {
    URL_RE.lastIndex = 0;
    for (let m = URL_RE.exec(text); m !== null; m = URL_RE.exec(text)) {
      if (++matches > MAX_MATCHES || out.size >= max) return [...out.values()];
      const host = `${m[1] ?? ""}${m[2]!}`.toLowerCase().replace(/\.+$/, "");
      const name = nameOf(host);
      if (name && !skip.has(name.label) && !out.has(name.label)) out.set(name.label, name);
    }
  }
  return [...out.values()];
}

/** The name to ask about for one URL host, or null (not a usable host, or a bare public suffix). */
export function nameOf(host: string): UrlName | null {
  if (isIPv4(host)) return { label: host.split(".").reverse().join("."), host, ip: true };
  const ascii = domainToASCII(host);
  if (!ascii || ascii.length > 253) return null;
  const domain = getDomain(ascii, {
    allowPrivateDomains: false,
    extractHostname: false,
    validateHostname: true,
  });
  // Only letters, digits, hyphens (and underscores) make a name worth asking a list about.
  return domain && DNS_NAME.test(domain) ? { label: domain, host, ip: false } : null;
}
