// Host and domain helpers for feature extraction: registrable domain by a small built-in
// list of common second-level suffixes. Not a full Public Suffix List (no dependency for it).

const SECOND_LEVEL = new Set([
  "co",
  "com",
  "net",
  "org",
  "ac",
  "ne",
  "or",
  "go",
  "gov",
  "edu",
  "gr",
  "lg",
  "ad",
  "ed",
  "ltd",
  "plc",
  "nom",
  "mil",
  "biz",
  "info",
  "gob",
  "gouv",
  "sch",
  "me",
  "nhs",
  "police",
]);

/** A bounded memo: the same hosts recur in every message of a campaign or newsletter. */
const memo = new Map<string, string>();

/** example.co.jp for www.mail.example.co.jp; the host itself for IP literals. */
export function registrableDomain(host: string): string {
  let d = memo.get(host);
  if (d === undefined) {
    if (memo.size > 50_000) memo.clear();
    memo.set(host, (d = computeRegistrable(host)));
  }
  return d;
}

function computeRegistrable(host: string): string {
  const h = host.toLowerCase().replace(/\.$/, "");
  if (/^\d+\.\d+\.\d+\.\d+$/.test(h) || h.includes(":")) return h;
  const labels = h.split(".");
  if (labels.length <= 2) return h;
  const tld = labels[labels.length - 1]!;
  const sld = labels[labels.length - 2]!;
  const take = tld.length === 2 && SECOND_LEVEL.has(sld) ? 3 : 2;
  return labels.slice(-take).join(".");
}

/** The domain of the first address in a header value, or null. */
export function addressDomain(value: string | null | undefined): string | null {
  if (!value) return null;
  const m = /@([a-z0-9.-]+\.[a-z0-9-]+)/i.exec(value);
  return m ? m[1]!.toLowerCase() : null;
}

export function isIpLiteral(host: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.startsWith("[");
}
