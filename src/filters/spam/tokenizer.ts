// Turns one message (decoded headers, decoded text, HTML, attachment list, earlier symbols)
// into hashed features: words + orthogonal sparse bigrams, CJK character bigrams, header,
// URL and MIME-shape tokens, and the named signals (signals.ts). Never reads headers written
// by other filters or by the receiving mailbox (upstream-headers.ts), nor Received trace
// fields (they describe the collecting site, not the sender), so a model travels.
import { addressDomain, isIpLiteral, registrableDomain } from "./domains.ts";
import type { FeatureSet } from "./features.ts";
import { fmix, fnvPrefix, fnvStep, hashGram4 } from "./hash.ts";
import type { TokenizerInput } from "./input.ts";
import { analyze, displayName, type Analysis } from "./signals.ts";
import { isUpstreamHeader, stripSubjectTags } from "./upstream-headers.ts";

export type { TokenizerInput } from "./input.ts";

/** Bump when tokens change: a model trained with another version must be rebuilt. */
export const TOKENIZER_VERSION = 3;

export interface TokenizerOptions {
  /** Characters of text (and of HTML) looked at; the rest is ignored. */
  maxChars: number;
}

/** Header fields never tokenized: other filters' verdicts, the receiving side's, and trace fields. */
export function isExcludedHeader(name: string): boolean {
  return isUpstreamHeader(name) || /^(received|x-received|return-path)$/i.test(name);
}

// Letters/digits that are not CJK make words; CJK runs are cut into character bigrams.
// The scanner classifies UTF-16 code units through a table built once from these classes
// (astral code points through a small cache), hashes words while lowercasing them, and builds
// strings only when the FeatureSet records names (tests, explain).
const CJK_RE = /^[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Hangul}\u30fc\uff66-\uff9f]$/u;
const WORD_START_RE = /^[\p{L}\p{N}$€£¥]$/u;
const WORD_INNER_RE = /^[\p{M}'’._%@-]$/u;
const SEP = 0;
const CJK = 1;
const START = 2;
const INNER = 3;
const OSB_WINDOW = 4;
const MAX_WORD = 40;
/** Character 4-grams of the header section (names and values, as the TREC winners used on raw mail). */
const HEADER_GRAM_CHARS = 3000;
const HEADER_GRAM_SALT = 0x7654321;

function classify(ch: string): number {
  if (CJK_RE.test(ch)) return CJK;
  if (WORD_START_RE.test(ch)) return START;
  if (WORD_INNER_RE.test(ch)) return INNER;
  return SEP;
}

const CLASS = new Uint8Array(65536);
const LOWER = new Uint16Array(65536);
for (let c = 0; c < 65536; c++) {
  const ch = String.fromCharCode(c);
  CLASS[c] = c >= 0xd800 && c <= 0xdfff ? SEP : classify(ch);
  const lo = ch.toLowerCase();
  LOWER[c] = lo.length === 1 ? lo.charCodeAt(0) : c;
}
const astralClass = new Map<number, number>();
function astral(cp: number): number {
  let k = astralClass.get(cp);
  if (k === undefined) astralClass.set(cp, (k = classify(String.fromCodePoint(cp))));
  return k;
}

/** Class of the code point at i and its length in code units (2 for a surrogate pair). */
function classAt(s: string, i: number, n: number): number {
  const c = s.charCodeAt(i);
  if (c < 0xd800 || c > 0xdbff || i + 1 >= n) return CLASS[c]!;
  const d = s.charCodeAt(i + 1);
  if (d < 0xdc00 || d > 0xdfff) return SEP;
  return astral((c - 0xd800) * 0x400 + (d - 0xdc00) + 0x10000) | 4;
}

const isTrailing = (c: number) =>
  c === 0x2e || c === 0x5f || c === 0x25 || c === 0x27 || c === 0x2019 || c === 0x40 || c === 0x2d;

export interface Tokenized extends Analysis {
  /**
   * Features of the message itself (out.count before the earlier filters' symbols were
   * added): the model normalises by this, so symbols a model never saw do not dilute it.
   */
  contentCount: number;
}

/** Adds the features of one message to `out` (which the caller has reset). */
export function tokenize(input: TokenizerInput, opts: TokenizerOptions, out: FeatureSet): Tokenized {
  headerFeatures(input.headers, out);
  headerGrams(input.headers, out);
  const text = input.text.length > opts.maxChars ? input.text.slice(0, opts.maxChars) : input.text;
  bodyTokens(text, "", out);
  const html = input.html === null ? null : input.html.slice(0, opts.maxChars);
  const a = analyze(input, text, html);
  urlFeatures(a, out);
  if (a.html) for (const tag of a.html.tags) if (INTERESTING_TAGS.has(tag)) out.add(`html:tag:${tag}`);
  shapeFeatures(input, text, out);
  for (const s of a.signals) out.add(`sig:${s.name}`);
  for (const f of a.facts) out.add(`sig:${f}`);
  const contentCount = out.count;
  for (const s of input.earlier) out.add(`sym:${s.name}`);
  return { ...a, contentCount };
}

/** Character 4-grams over "name:value\n" of the headers used (excluded ones never). */
function headerGrams(headers: TokenizerInput["headers"], out: FeatureSet): void {
  let a = -1;
  let b = -1;
  let c = -1;
  let left = HEADER_GRAM_CHARS;
  const feed = (d: number) => {
    if (a >= 0) out.addHash(hashGram4(HEADER_GRAM_SALT, a, b, c, d));
    a = b;
    b = c;
    c = d;
    left--;
  };
  for (const h of headers) {
    if (left <= 0) break;
    const name = h.name;
    if (isExcludedHeader(name)) continue;
    const value = name.length === 7 && name.toLowerCase() === "subject" ? stripSubjectTags(h.value) : h.value;
    for (let i = 0; i < name.length && left > 0; i++) feed(LOWER[name.charCodeAt(i)]!);
    feed(0x3a);
    for (let i = 0; i < value.length && left > 0; i++) feed(value.charCodeAt(i));
    feed(0x0a);
  }
}

/** Words and OSB pairs (window 5) of a decoded text; `prefix` separates e.g. Subject tokens. */
export function bodyTokens(text: string, prefix: string, out: FeatureSet): void {
  const ring = new Uint32Array(OSB_WINDOW);
  const record = out.names !== null;
  const ringNames: string[] = record ? new Array<string>(OSB_WINDOW).fill("") : [];
  const seed = fnvPrefix(prefix);
  let n = 0;
  const push = (raw: number, name: string) => {
    const h = fmix(raw) >>> 0;
    out.addHash(h, record ? prefix + name : undefined);
    for (let d = 1; d <= OSB_WINDOW && d <= n; d++) {
      const slot = (n - d) % OSB_WINDOW;
      out.addPair(ring[slot]!, h, d, ringNames[slot], name);
    }
    ring[n % OSB_WINDOW] = h;
    if (record) ringNames[n % OSB_WINDOW] = name;
    n++;
  };
  const len = text.length;
  let i = 0;
  while (i < len) {
    const k = classAt(text, i, len);
    const cls = k & 3;
    if (cls === CJK) {
      // A run of CJK code points: bigrams of code units, as the regex version sliced them.
      const start = i;
      i += k & 4 ? 2 : 1;
      while (i < len) {
        const k2 = classAt(text, i, len);
        if ((k2 & 3) !== CJK) break;
        i += k2 & 4 ? 2 : 1;
      }
      const runLen = i - start;
      if (runLen === 1) push(fnvStep(seed, text.charCodeAt(start)), record ? text[start]! : "");
      for (let j = start; j + 1 < i; j++) {
        const h = fnvStep(fnvStep(seed, text.charCodeAt(j)), text.charCodeAt(j + 1));
        push(h, record ? text.slice(j, j + 2) : "");
      }
      continue;
    }
    if (cls !== START) {
      i += k & 4 ? 2 : 1;
      continue;
    }
    const start = i;
    i += k & 4 ? 2 : 1;
    while (i < len) {
      const k2 = classAt(text, i, len);
      const c2 = k2 & 3;
      if (c2 !== START && c2 !== INNER) break;
      i += k2 & 4 ? 2 : 1;
    }
    let end = i;
    while (end - start > 1 && isTrailing(text.charCodeAt(end - 1))) end--;
    let h = seed;
    if (end - start > MAX_WORD) {
      h = fnvPrefix(prefix + "long:");
      for (let j = start; j < start + 12; j++) h = fnvStep(h, LOWER[text.charCodeAt(j)]!);
      push(h, record ? `long:${text.slice(start, start + 12).toLowerCase()}` : "");
    } else {
      for (let j = start; j < end; j++) h = fnvStep(h, LOWER[text.charCodeAt(j)]!);
      push(h, record ? text.slice(start, end).toLowerCase() : "");
    }
  }
}

function headerFeatures(headers: TokenizerInput["headers"], out: FeatureSet): void {
  let fromDomain: string | null = null;
  let replyDomain: string | null = null;
  for (const { name, value } of headers) {
    const lower = name.toLowerCase();
    if (isExcludedHeader(lower)) continue;
    out.add(`hname:${lower}`);
    switch (lower) {
      case "from":
      case "reply-to":
      case "sender": {
        const d = addressDomain(value);
        if (lower === "from") fromDomain = d;
        if (lower === "reply-to") replyDomain = d;
        if (d) {
          out.add(`${lower}:host:${d}`);
          out.add(`${lower}:dom:${registrableDomain(d)}`);
        } else out.add(`${lower}:nodomain`);
        if (lower === "from") bodyTokens(displayName(value), "fromname:", out);
        break;
      }
      case "subject": {
        const subject = stripSubjectTags(value);
        bodyTokens(subject, "subj:", out);
        if (subject.length > 0 && subject === subject.toUpperCase() && /\p{Lu}/u.test(subject))
          out.add("subj:ALLCAPS");
        if (subject.trim() === "") out.add("subj:empty");
        break;
      }
      case "x-mailer":
      case "user-agent":
        bodyTokens(value, "mailer:", out);
        break;
      case "content-type":
        out.add(`ct:${value.split(";")[0]!.trim().toLowerCase()}`);
        {
          const cs = /charset="?([^";\s]+)/i.exec(value);
          if (cs) out.add(`charset:${cs[1]!.toLowerCase()}`);
        }
        break;
      case "message-id": {
        const d = /@([^>\s]+)>?/.exec(value);
        out.add(d ? `msgid:dom:${registrableDomain(d[1]!)}` : "msgid:nodomain");
        break;
      }
      case "precedence":
      case "list-id":
      case "importance":
      case "x-priority":
      case "mime-version":
        out.add(`${lower}:${value.toLowerCase().slice(0, 40)}`);
        break;
    }
  }
  if (fromDomain && replyDomain && registrableDomain(fromDomain) !== registrableDomain(replyDomain)) {
    out.add("reply-to:differs");
  }
}

function urlFeatures(a: Analysis, out: FeatureSet): void {
  for (const u of a.urls) {
    if (u.userinfo) out.add("url:userinfo");
    if (isIpLiteral(u.host)) {
      out.add("url:ip");
      continue;
    }
    out.add(`url:host:${u.host}`);
    const dom = registrableDomain(u.host);
    out.add(`url:dom:${dom}`);
    out.add(`url:tld:${dom.slice(dom.lastIndexOf(".") + 1)}`);
  }
  const n = a.urls.length;
  if (n > 0) out.add(`url:count:${n > 20 ? "many" : n > 5 ? "some" : "few"}`);
  if (a.urlDomains > 0)
    out.add(`url:domains:${a.urlDomains >= 8 ? "8+" : a.urlDomains >= 5 ? "5-7" : a.urlDomains}`);
}

const INTERESTING_TAGS = new Set([
  "font",
  "img",
  "form",
  "input",
  "script",
  "iframe",
  "table",
  "map",
  "center",
  "style",
  "b",
]);

function shapeFeatures(input: TokenizerInput, text: string, out: FeatureSet): void {
  out.add(`mime:attachments:${Math.min(input.attachments.length, 5)}`);
  if (input.html === null) out.add("mime:no-html");
  for (const a of input.attachments) {
    out.add(`att:type:${(a.detectedType ?? a.declaredType).toLowerCase()}`);
    const ext = a.filename ? /\.([a-z0-9]{1,8})$/i.exec(a.filename)?.[1] : undefined;
    if (ext) out.add(`att:ext:${ext.toLowerCase()}`);
  }
  const len = text.length;
  out.add(`len:${len === 0 ? 0 : Math.min(Math.floor(Math.log2(len)), 20)}`);
}
