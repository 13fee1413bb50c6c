// Builds the RFC 5703 part tree a Sieve environment exposes from a raw RFC 5322 message: headers
// per part (unfolded, RFC 2047-decoded), multipart and message/rfc822 nesting, decoded content and
// text. Pure and bounded (parts, depth); malformed MIME degrades to fewer parts, never an exception.
// Why our own splitter: mailparser flattens the tree, and the Sieve tests need every part's headers.

import iconv from "iconv-lite";
import libmime from "libmime";
import type { SieveHeader, SieveMimePart } from "./environment.ts";

export interface MimeTreeLimits {
  /** Parts kept in total; the rest of the message is not split further. */
  maxParts: number;
  /** Deepest multipart / message nesting that is opened. */
  maxDepth: number;
}

export const DEFAULT_MIME_TREE_LIMITS: MimeTreeLimits = { maxParts: 1000, maxDepth: 32 };

export interface MimeTreePart extends SieveMimePart {
  children: MimeTreePart[];
  /** "type/subtype", lower-case, with RFC 2045 defaults applied. */
  contentType: string;
  /** Content-Disposition filename or Content-Type name, decoded; null when there is none. */
  filename: string | null;
  /** The body with its Content-Transfer-Encoding undone. */
  content(): Buffer;
}

interface Context {
  limits: MimeTreeLimits;
  parts: number;
}

/** Header section and body of one entity, split at the first empty line (latin1: one char per byte). */
function splitEntity(s: string): { head: string; body: string } {
  if (s.startsWith("\r\n")) return { head: "", body: s.slice(2) };
  if (s.startsWith("\n")) return { head: "", body: s.slice(1) };
  const m = /\r?\n\r?\n/.exec(s);
  if (!m) return { head: s, body: "" };
  return { head: s.slice(0, m.index), body: s.slice(m.index + m[0].length) };
}

function utf8(latin1: string): string {
  return /[\x80-\xff]/.test(latin1) ? Buffer.from(latin1, "latin1").toString("utf8") : latin1;
}

function parseHeaders(head: string): SieveHeader[] {
  const out: SieveHeader[] = [];
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && out.length > 0) {
      const last = out[out.length - 1] as SieveHeader;
      last.value += " " + line.trim();
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    out.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
  }
  for (const h of out) {
    const raw = utf8(h.value);
    try {
      h.value = raw.includes("=?") ? libmime.decodeWords(raw) : raw;
    } catch {
      h.value = raw;
    }
  }
  return out;
}

function header(headers: SieveHeader[], name: string): string | null {
  return headers.find((h) => h.name.toLowerCase() === name)?.value ?? null;
}

function decodeQuotedPrintable(s: string): Buffer {
  const bytes: number[] = [];
  const text = s.replace(/[ \t]+(?=\r?\n)/g, "").replace(/=\r?\n/g, "");
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3d && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(c & 0xff);
  }
  return Buffer.from(bytes);
}

function decodeBody(body: string, encoding: string): Buffer {
  switch (encoding.trim().toLowerCase()) {
    case "base64":
      return Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ""), "base64");
    case "quoted-printable":
      return decodeQuotedPrintable(body);
    default:
      return Buffer.from(body, "latin1");
  }
}

function toText(content: Buffer, charset: string): string {
  const cs = charset.toLowerCase();
  if (cs && cs !== "utf-8" && cs !== "us-ascii" && iconv.encodingExists(cs)) return iconv.decode(content, cs);
  return content.toString("utf8");
}

/** The bodies between boundary delimiter lines (RFC 2046 5.1.1); preamble and epilogue dropped. */
function splitMultipart(body: string, boundary: string, max: number): string[] {
  const delimiter = "--" + boundary;
  const parts: string[] = [];
  let start = -1;
  let from = 0;
  for (;;) {
    const at = body.indexOf(delimiter, from);
    if (at < 0) break;
    from = at + delimiter.length;
    if (at > 0 && body[at - 1] !== "\n") continue;
    const close = body.startsWith("--", from);
    const eol = body.indexOf("\n", from);
    if (parts.length >= max) return parts;
    if (start >= 0) {
      // The CRLF before a delimiter belongs to the delimiter.
      let end = at;
      if (body[end - 1] === "\n") end--;
      if (body[end - 1] === "\r") end--;
      parts.push(body.slice(start, Math.max(start, end)));
    }
    if (close || eol < 0) return parts;
    start = eol + 1;
    from = start;
  }
  // No close delimiter: what followed the last delimiter is still a part.
  if (start >= 0) parts.push(body.slice(start));
  return parts;
}

function parseEntity(s: string, depth: number, ctx: Context, defaultType: string): MimeTreePart {
  ctx.parts++;
  const { head, body } = splitEntity(s);
  const headers = parseHeaders(head);
  const ctHeader = header(headers, "content-type");
  const ct: { value: string; params: Record<string, string> } = ctHeader
    ? libmime.parseHeaderValue(ctHeader)
    : { value: defaultType, params: {} };
  const type = /^[^/\s]+\/[^/\s]+$/.test(ct.value.trim()) ? ct.value.trim().toLowerCase() : "text/plain";
  const cd = header(headers, "content-disposition");
  const disposition = cd ? libmime.parseHeaderValue(cd) : null;
  const filename = disposition?.params.filename ?? ct.params.name ?? null;
  const encoding = header(headers, "content-transfer-encoding") ?? "";
  let content: Buffer | null = null;
  let text: string | null = null;
  const part: MimeTreePart = {
    headers,
    children: [],
    contentType: type,
    filename,
    content: () => (content ??= decodeBody(body, encoding)),
    text: () => (text ??= type.startsWith("text/") ? toText(part.content(), ct.params.charset ?? "") : ""),
  };
  const room = () => depth < ctx.limits.maxDepth && ctx.parts < ctx.limits.maxParts;
  if (type.startsWith("multipart/") && ct.params.boundary && room()) {
    const childDefault = type === "multipart/digest" ? "message/rfc822" : "text/plain";
    for (const chunk of splitMultipart(body, ct.params.boundary, ctx.limits.maxParts - ctx.parts)) {
      if (!room()) break;
      part.children.push(parseEntity(chunk, depth + 1, ctx, childDefault));
    }
  } else if (type === "message/rfc822" && room() && /^[ \t]*(7bit|8bit|binary)?[ \t]*$/i.test(encoding)) {
    part.children.push(parseEntity(body, depth + 1, ctx, "text/plain"));
  }
  return part;
}

/** The part tree of a raw message; the root is the message itself. */
export function buildMimeTree(raw: Buffer | string, limits: Partial<MimeTreeLimits> = {}): MimeTreePart {
  const s = typeof raw === "string" ? Buffer.from(raw, "utf8").toString("latin1") : raw.toString("latin1");
  return parseEntity(s, 0, { limits: { ...DEFAULT_MIME_TREE_LIMITS, ...limits }, parts: 0 }, "text/plain");
}

/** Every part in document order, the root first. */
export function allParts(root: MimeTreePart): MimeTreePart[] {
  const out: MimeTreePart[] = [];
  const walk = (p: MimeTreePart) => {
    out.push(p);
    p.children.forEach(walk);
  };
  walk(root);
  return out;
}
