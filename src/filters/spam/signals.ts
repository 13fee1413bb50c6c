// Named signals of one message, read from its MIME view and headers: how it is built (HTML or
// images with little text, hidden text, misleading links, IP and shortener URLs), how it hides
// words (mixed scripts, zero-width characters, entity-encoded letters), and header oddities
// (encoded-word abuse, display-name spoofing, Date, Message-ID, charset vs text, attachments).
// Each is a symbol with a default score (SIGNAL_SCORES, overridable with policy `scores:`)
// and a feature of the model. Pure functions of the input; no I/O.
import { addressDomain, registrableDomain } from "./domains.ts";
import { scanHtml, type HtmlScan } from "./html-scan.ts";
import type { TokenizerInput } from "./input.ts";
import {
  charsetScripts,
  lacksScripts,
  languageScripts,
  mixedScriptWords,
  scriptCounts,
  zeroWidthInWords,
} from "./scripts.ts";
import { findUrls, hostInText, hrefHost, isIpHost, isShortener, type FoundUrl } from "./urls.ts";
import { isUpstreamHeader, stripSubjectTags } from "./upstream-headers.ts";

/** Default score of each signal (as Rspamd's scores.d): small, the model weighs them too. */
export const SIGNAL_SCORES = {
  MIME_HTML_ONLY: 0.2,
  HTML_LITTLE_TEXT: 0.5,
  IMAGE_LITTLE_TEXT: 1.5,
  HTML_HIDDEN_TEXT: 1.0,
  HTML_TINY_TEXT: 1.0,
  HTML_ENTITY_LETTERS: 1.0,
  URL_TEXT_HOST_MISMATCH: 1.5,
  URL_IP_HOST: 1.5,
  URL_SHORTENER: 0.5,
  URL_USERINFO: 1.0,
  URL_MANY_DOMAINS: 0.5,
  TEXT_MIXED_SCRIPT: 2.0,
  TEXT_ZERO_WIDTH: 2.0,
  SUBJ_EXCESS_ENCODING: 1.0,
  FROM_EXCESS_ENCODING: 1.0,
  FROM_ENCODED_ADDRESS: 2.0,
  ENCODED_MIXED_CHARSET: 0.5,
  FROM_NAME_SPOOFS_RCPT: 2.0,
  FROM_NAME_HAS_ADDRESS: 0.5,
  DATE_FUTURE: 1.5,
  DATE_PAST: 0.5,
  DATE_INVALID: 1.0,
  MID_MALFORMED: 1.0,
  CHARSET_TEXT_MISMATCH: 1.0,
  LANGUAGE_TEXT_MISMATCH: 0.5,
  ATT_EXECUTABLE: 4.0,
  ATT_DOUBLE_EXT: 3.0,
  ATT_MACRO_OFFICE: 2.0,
  ATT_TYPE_MISMATCH: 1.5,
  ATT_ARCHIVE: 0.3,
  ATT_HTML: 1.0,
} as const satisfies Record<string, number>;

export type SignalName = keyof typeof SIGNAL_SCORES;

/** Facts fed to the model only (a filter elsewhere already scores them, e.g. header_sanity). */
export type FactName = "DATE_MISSING" | "MID_MISSING" | "HTML_WITH_TEXT" | "NO_TEXT";

export interface Signal {
  name: SignalName;
  detail?: string;
}

export interface Analysis {
  signals: Signal[];
  facts: FactName[];
  urls: FoundUrl[];
  html: HtmlScan | null;
  /** Distinct registrable domains of the URLs. */
  urlDomains: number;
}

const LITTLE_TEXT = 200;
const MANY_DOMAINS = 8;
const ENTITY_LETTERS = 4;
const DAY = 86_400_000;

export function analyze(input: TokenizerInput, text: string, html: string | null): Analysis {
  const signals: Signal[] = [];
  const facts: FactName[] = [];
  const hit = (name: SignalName, detail?: string) =>
    signals.push(detail === undefined ? { name } : { name, detail });
  const wanted = firstHeaders(input.headers);
  const header = (n: WantedHeader) => wanted[n] ?? null;

  // Shape: HTML / images with little text.
  const scan = html === null ? null : scanHtml(html);
  const ct = (header("content-type") ?? "").toLowerCase();
  const plain = nonSpace(text);
  const images = input.attachments.filter((a) =>
    (a.detectedType ?? a.declaredType).startsWith("image/"),
  ).length;
  if (scan) {
    if (ct.startsWith("text/html")) hit("MIME_HTML_ONLY");
    else facts.push("HTML_WITH_TEXT");
    if (scan.visibleChars < LITTLE_TEXT && scan.images === 0)
      hit("HTML_LITTLE_TEXT", `${scan.visibleChars} chars`);
    if (scan.hiddenChars >= 20) hit("HTML_HIDDEN_TEXT", `${scan.hiddenChars} chars`);
    if (scan.tinyChars >= 20) hit("HTML_TINY_TEXT", `${scan.tinyChars} chars`);
    if (scan.entityLetters >= ENTITY_LETTERS) hit("HTML_ENTITY_LETTERS", `${scan.entityLetters}`);
  }
  const shown = scan ? Math.max(scan.visibleChars, plain) : plain;
  if ((images > 0 || (scan?.images ?? 0) > 0) && shown < LITTLE_TEXT)
    hit("IMAGE_LITTLE_TEXT", `${images + (scan?.images ?? 0)} images, ${shown} chars`);
  if (shown === 0) facts.push("NO_TEXT");

  // URLs.
  const urls = findUrls(text);
  if (html !== null) findUrls(html, urls);
  const domains = new Set<string>();
  let ip = 0;
  let short = 0;
  let userinfo = 0;
  for (const u of urls) {
    if (u.userinfo) userinfo++;
    if (isIpHost(u.host)) {
      ip++;
      continue;
    }
    if (isShortener(u.host)) short++;
    domains.add(registrableDomain(u.host));
  }
  if (ip > 0) hit("URL_IP_HOST", `${ip}`);
  if (short > 0) hit("URL_SHORTENER", `${short}`);
  if (userinfo > 0) hit("URL_USERINFO");
  if (domains.size >= MANY_DOMAINS) hit("URL_MANY_DOMAINS", `${domains.size}`);
  if (scan) {
    for (const l of scan.links) {
      const target = hrefHost(l.href);
      const named = target ? hostInText(l.text) : null;
      if (target && named && registrableDomain(named) !== registrableDomain(target)) {
        hit("URL_TEXT_HOST_MISMATCH", `${named} -> ${target}`);
        break;
      }
    }
  }

  // Obfuscated words.
  const subject = stripSubjectTags(header("subject") ?? "");
  const from = header("from") ?? "";
  const display = displayName(from);
  const mixed = mixedScriptWords(text) + mixedScriptWords(subject) * 2 + mixedScriptWords(display) * 2;
  if (mixed >= 2) hit("TEXT_MIXED_SCRIPT", `${mixed}`);
  const zw = zeroWidthInWords(text) + zeroWidthInWords(subject) * 2;
  if (zw >= 2) hit("TEXT_ZERO_WIDTH", `${zw}`);

  // Encoded words in Subject and From.
  if (input.rawHeaders) encodedWordSignals(input.rawHeaders, hit);

  // Display name naming the recipient's domain (or another address) while the address is elsewhere.
  const fromDomain = addressDomain(angle(from) ?? from);
  if (display && fromDomain) {
    const fromReg = registrableDomain(fromDomain);
    const lower = display.toLowerCase();
    const spoofed = (input.recipientDomains ?? []).find((d) => {
      const reg = registrableDomain(d);
      return reg !== fromReg && reg.includes(".") && lower.includes(reg);
    });
    if (spoofed) hit("FROM_NAME_SPOOFS_RCPT", spoofed);
    else {
      const inName = addressDomain(display);
      if (inName && registrableDomain(inName) !== fromReg) hit("FROM_NAME_HAS_ADDRESS", inName);
    }
  }

  // Date and Message-ID.
  const date = header("date");
  if (date === null) facts.push("DATE_MISSING");
  else {
    const t = Date.parse(date.replace(/\s*\([^)]*\)\s*$/, ""));
    if (Number.isNaN(t)) hit("DATE_INVALID");
    else if (input.receivedAt != null) {
      if (t > input.receivedAt + DAY) hit("DATE_FUTURE", `${Math.round((t - input.receivedAt) / DAY)} days`);
      else if (t < input.receivedAt - 4 * DAY)
        hit("DATE_PAST", `${Math.round((input.receivedAt - t) / DAY)} days`);
    }
  }
  const mid = header("message-id");
  if (mid === null) facts.push("MID_MISSING");
  else if (!/^<[^<>\s@]+@[^<>\s@]+>$/.test(mid.trim())) hit("MID_MALFORMED");

  // Declared charset or language against the script of the text.
  const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(ct)?.[1];
  const want = charset ? charsetScripts(charset) : null;
  const lang = header("content-language");
  const langWant = lang ? languageScripts(lang.split(",")[0]!) : null;
  if (want || langWant) {
    const counts = scriptCounts(text.length > 0 ? text : subject);
    if (want && lacksScripts(counts, want)) hit("CHARSET_TEXT_MISMATCH", charset);
    if (langWant && lacksScripts(counts, langWant)) hit("LANGUAGE_TEXT_MISMATCH", lang!);
  }

  attachmentSignals(input.attachments, hit);
  return { signals, facts, urls, html: scan, urlDomains: domains.size };
}

const WANTED = ["content-type", "subject", "from", "date", "message-id", "content-language"] as const;
type WantedHeader = (typeof WANTED)[number];

/** The first value of each header field the signals read, in one pass. */
function firstHeaders(headers: TokenizerInput["headers"]): Partial<Record<WantedHeader, string>> {
  const out: Partial<Record<WantedHeader, string>> = {};
  for (const h of headers) {
    const n = h.name.toLowerCase() as WantedHeader;
    if (out[n] === undefined && (WANTED as readonly string[]).includes(n)) out[n] = h.value;
  }
  return out;
}

/** The display name of a From value (decoded), without the address. */
export function displayName(from: string): string {
  const lt = from.lastIndexOf("<");
  const name = lt > 0 ? from.slice(0, lt) : from.replace(/\S+@\S+/g, "");
  return name.replace(/^[\s"']+|[\s"']+$/g, "");
}

function angle(from: string): string | null {
  const m = /<([^<>]*)>\s*$/.exec(from);
  return m ? m[1]! : null;
}

const EW_RE = /=\?([^?\s]+)\?([bq])\?([^?\s]*)\?=/gi;

function encodedWordSignals(
  raw: readonly { name: string; value: string }[],
  hit: (name: SignalName, detail?: string) => void,
): void {
  const charsets = new Set<string>();
  for (const { name, value } of raw) {
    const n = name.toLowerCase();
    if ((n !== "subject" && n !== "from") || isUpstreamHeader(n)) continue;
    EW_RE.lastIndex = 0;
    let words = 0;
    let ascii = 0;
    let at = false;
    for (let m = EW_RE.exec(value); m !== null; m = EW_RE.exec(value)) {
      words++;
      charsets.add(m[1]!.toLowerCase().replace(/\*.*$/, ""));
      const bytes =
        m[2]!.toLowerCase() === "b"
          ? Buffer.from(m[3]!, "base64")
          : Buffer.from(
              m[3]!
                .replace(/_/g, " ")
                .replace(/=([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
              "latin1",
            );
      if (bytes.every((b) => b >= 0x20 && b < 0x7f)) ascii++;
      if (n === "from" && bytes.includes(0x40)) at = true;
    }
    if (words === 0) continue;
    if (ascii === words && n === "subject") hit("SUBJ_EXCESS_ENCODING");
    if (ascii === words && n === "from") hit("FROM_EXCESS_ENCODING");
    if (at) hit("FROM_ENCODED_ADDRESS");
  }
  if (charsets.size > 1) hit("ENCODED_MIXED_CHARSET", [...charsets].join(","));
}

const EXECUTABLE_EXT =
  /^(exe|scr|pif|com|bat|cmd|vbs|vbe|js|jse|wsf|wsh|hta|jar|msi|msp|ps1|lnk|reg|cpl|dll|scf|inf|chm|gadget|application|iso|img)$/;
const EXECUTABLE_TYPE =
  /x-msdownload|x-dosexec|x-msdos-program|x-executable|java-archive|x-ms-shortcut|x-sh$/;
const ARCHIVE_EXT = /^(zip|rar|7z|gz|tgz|bz2|xz|ace|arj|cab|lzh|z|tar|zipx)$/;
const MACRO_EXT = /^(docm|xlsm|pptm|dotm|xltm|xlsb|xlam|ppam)$/;
const DOC_EXT = /^(pdf|docx?|xlsx?|pptx?|txt|rtf|jpe?g|png|gif|html?|zip)$/;

function attachmentSignals(
  atts: TokenizerInput["attachments"],
  hit: (name: SignalName, detail?: string) => void,
): void {
  const seen = new Set<SignalName>();
  const once = (name: SignalName, detail?: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    hit(name, detail);
  };
  for (const a of atts) {
    const name = (a.filename ?? "").toLowerCase().trim();
    const parts = name.split(".");
    const ext = parts.length > 1 ? parts[parts.length - 1]! : "";
    const detected = (a.detectedType ?? "").toLowerCase();
    const declared = a.declaredType.toLowerCase();
    if (EXECUTABLE_EXT.test(ext) || EXECUTABLE_TYPE.test(detected)) once("ATT_EXECUTABLE", name || detected);
    if (parts.length > 2 && DOC_EXT.test(parts[parts.length - 2]!) && EXECUTABLE_EXT.test(ext))
      once("ATT_DOUBLE_EXT", name);
    if (MACRO_EXT.test(ext)) once("ATT_MACRO_OFFICE", name);
    if (ARCHIVE_EXT.test(ext) || /zip|rar|7z|x-tar|gzip|x-ace/.test(detected))
      once("ATT_ARCHIVE", name || detected);
    if (/^html?$/.test(ext) || declared === "text/html") once("ATT_HTML", name || declared);
    if (detected && declared !== "application/octet-stream" && !sameFamily(detected, declared))
      once("ATT_TYPE_MISMATCH", `${declared} is ${detected}`);
  }
}

function sameFamily(a: string, b: string): boolean {
  const fa = family(a);
  const fb = family(b);
  // Office Open XML and OpenDocument files are zip containers; sniffers may say either.
  const officeZip = (x: string, y: string) => x === "office" && y === "archive";
  return fa === fb || officeZip(fa, fb) || officeZip(fb, fa);
}

/** The broad kind of a media type: image, audio, video, text, or the application subtype. */
function family(type: string): string {
  const [top, sub = ""] = type.split(";")[0]!.trim().split("/");
  if (top === "application") {
    if (/zip|rar|7z|compress|tar|gzip/.test(sub)) return "archive";
    if (/msword|officedocument|ms-excel|ms-powerpoint|opendocument|rtf|vnd\.ms-/.test(sub)) return "office";
    if (/msdownload|dosexec|executable|msdos/.test(sub)) return "exe";
    return sub.replace(/^x-/, "");
  }
  return top ?? "";
}

function nonSpace(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x20) n++;
  return n;
}
