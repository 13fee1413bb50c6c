// URLs of a message for the classifier: hosts from the decoded text and the HTML (hrefs and
// bare URLs), and the host tests the signals need — IP hosts in any notation, URL shorteners,
// a host named in a link's visible text. Never resolves or fetches anything.
import { isIpLiteral, registrableDomain } from "./domains.ts";

export interface FoundUrl {
  host: string;
  userinfo: boolean;
}

const URL_RE = /\b(?:https?|ftp):\/\/([^\s/?#"'<>\\:@]+@)?([^\s/?#"'<>\\:]+)/gi;
const MAX_URLS = 200;

/** URLs in `text` (decoded text or raw HTML), at most MAX_URLS per call. */
export function findUrls(text: string, into: FoundUrl[] = []): FoundUrl[] {
  URL_RE.lastIndex = 0;
  let n = 0;
  for (let m = URL_RE.exec(text); m !== null && n < MAX_URLS; m = URL_RE.exec(text), n++) {
    const host = m[2]!.toLowerCase().replace(/\.$/, "");
    if (host.length > 0) into.push({ host, userinfo: m[1] !== undefined });
  }
  return into;
}

/** The host of an absolute http(s) URL, lower-cased, or null. */
export function hrefHost(href: string): string | null {
  const m = /^\s*https?:\/\/(?:[^\s/?#@]*@)?([^\s/?#:]+)/i.exec(href);
  return m ? m[1]!.toLowerCase().replace(/\.$/, "") : null;
}

/** Dotted quads, bracketed IPv6, and the integer / hex / octal forms browsers accept. */
export function isIpHost(host: string): boolean {
  if (isIpLiteral(host)) return true;
  if (/^(?:0x[0-9a-f]+|\d+)$/i.test(host)) return true;
  return /^(?:(?:0x[0-9a-f]{1,2}|0[0-7]{1,3}|\d{1,3})\.){1,3}(?:0x[0-9a-f]+|0[0-7]+|\d+)$/i.test(host);
}

/** Well-known public URL shorteners (the link hides its destination). */
const SHORTENERS = new Set([
  "bit.ly",
  "bitly.com",
  "tinyurl.com",
  "goo.gl",
  "ow.ly",
  "t.co",
  "is.gd",
  "v.gd",
  "buff.ly",
  "rebrand.ly",
  "cutt.ly",
  "tiny.cc",
  "shorturl.at",
  "rb.gy",
  "bit.do",
  "x.co",
  "lnkd.in",
  "adf.ly",
  "t.ly",
  "s.id",
  "qr.net",
  "tr.im",
  "u.to",
  "clck.ru",
  "snip.ly",
  "shorte.st",
  "soo.gd",
  "mcaf.ee",
  "su.pr",
  "budurl.com",
  "cli.gs",
  "snipurl.com",
  "snurl.com",
  "tinyurl.co.uk",
  "urlcut.com",
  "yep.it",
  "xrl.us",
  "zi.ma",
  "kl.am",
  "short.ie",
  "tighturl.com",
  "notlong.com",
  "2tu.us",
  "qr.ae",
  "ity.im",
  "po.st",
  "db.tt",
  "1url.com",
  "hyperurl.co",
  "urlz.fr",
  "shorturl.com",
  "dwarfurl.com",
  "redirx.com",
  "doiop.com",
  "masl.to",
  "linktr.ee",
]);

export function isShortener(host: string): boolean {
  return SHORTENERS.has(host) || SHORTENERS.has(registrableDomain(host));
}

/** Top-level domains common enough that "name.tld" in link text is read as a host. */
const TEXT_TLDS = new Set(
  (
    "com net org info biz edu gov mil int co io me us uk de fr it es nl be ch at se no dk fi pl cz ru ua " +
    "jp cn kr tw hk sg in au nz ca br mx ar cl ie pt gr hu ro tr il za eu asia mobi name pro tv cc ws"
  ).split(" "),
);

const TEXT_HOST_RE =
  /(?:https?:\/\/)?((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,10}))(?![a-z0-9.-]*@)/gi;

/** A host the visible text of a link names (e.g. "www.bank.example" or "https://bank.example/"), or null. */
export function hostInText(text: string): string | null {
  if (text.length === 0 || text.length > 300) return null;
  TEXT_HOST_RE.lastIndex = 0;
  for (let m = TEXT_HOST_RE.exec(text); m !== null; m = TEXT_HOST_RE.exec(text)) {
    // Part of an address or a file name ("report.pdf") is not a host.
    const before = m.index > 0 ? text[m.index - 1]! : " ";
    if (before === "@" || /[a-z0-9]/i.test(before)) continue;
    const host = m[1]!.toLowerCase();
    const explicit = /^https?:\/\//i.test(m[0]) || host.startsWith("www.");
    if (explicit || TEXT_TLDS.has(m[2]!.toLowerCase())) return host;
  }
  return null;
}
