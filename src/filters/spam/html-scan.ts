// One pass over a message's HTML for what a reader does not see or is misled by: text hidden
// (display:none, visibility:hidden, zero opacity, white on white) or tiny (font-size <= 2px,
// <font size=1>), links whose visible text names another host than the href, images, and
// letters written as numeric entities. A tolerant scanner, not an HTML parser or sanitiser.

export interface HtmlLink {
  href: string;
  /** The link's visible text, entity-decoded, trimmed. */
  text: string;
}

export interface HtmlScan {
  /** Visible (not hidden, not tiny) text characters other than white space. */
  visibleChars: number;
  hiddenChars: number;
  tinyChars: number;
  links: HtmlLink[];
  images: number;
  /** Numeric character references that encode an ASCII letter or digit (&#86; &#x69;). */
  entityLetters: number;
  /** Tags seen (capped), for the tag-name features. */
  tags: Set<string>;
}

const TAG_RE = /<(\/?)([a-z][a-z0-9]*)\b([^>]*)>|<!--[\s\S]*?-->/gi;
const VOID = new Set(["br", "img", "hr", "meta", "input", "link", "area", "base", "col", "wbr", "source"]);
/** Elements whose content is never shown as text. */
const RAW_TEXT = new Set(["style", "script", "title", "head", "noscript", "template"]);
const MAX_TAGS = 5000;
const MAX_LINKS = 200;

interface Open {
  tag: string;
  hidden: boolean;
  tiny: boolean;
  link: HtmlLink | null;
}

export function scanHtml(html: string): HtmlScan {
  const out: HtmlScan = {
    visibleChars: 0,
    hiddenChars: 0,
    tinyChars: 0,
    links: [],
    images: 0,
    entityLetters: 0,
    tags: new Set(),
  };
  const stack: Open[] = [];
  let hidden = 0;
  let tiny = 0;
  let raw = 0;
  let link: HtmlLink | null = null;
  let last = 0;
  let n = 0;
  const text = (from: number, to: number) => {
    if (to <= from || raw > 0) return;
    const chunk = html.slice(from, to);
    out.entityLetters += countEntityLetters(chunk);
    const visible = nonSpace(chunk);
    if (visible === 0) return;
    if (hidden > 0) out.hiddenChars += visible;
    else if (tiny > 0) out.tinyChars += visible;
    else out.visibleChars += visible;
    if (link && link.text.length < 200) link.text += decodeEntities(chunk);
  };
  TAG_RE.lastIndex = 0;
  for (let m = TAG_RE.exec(html); m !== null && n < MAX_TAGS; m = TAG_RE.exec(html), n++) {
    text(last, m.index);
    last = TAG_RE.lastIndex;
    if (m[2] === undefined) continue; // a comment
    const tag = m[2].toLowerCase();
    const attrs = m[3] ?? "";
    if (m[1] === "/") {
      // Close the nearest open element of this name (and whatever was left open inside it).
      for (let i = stack.length - 1; i >= 0; i--) {
        if (stack[i]!.tag !== tag) continue;
        while (stack.length > i) {
          const e = stack.pop()!;
          if (e.hidden) hidden--;
          if (e.tiny) tiny--;
          if (RAW_TEXT.has(e.tag)) raw--;
          if (e.link) {
            e.link.text = e.link.text.trim();
            if (link === e.link) link = null;
          }
        }
        break;
      }
      continue;
    }
    out.tags.add(tag);
    if (tag === "img") out.images++;
    if (VOID.has(tag) || attrs.endsWith("/")) continue;
    const e: Open = { tag, hidden: isHidden(attrs), tiny: isTiny(tag, attrs), link: null };
    if (tag === "a" && out.links.length < MAX_LINKS) {
      const href = attr(attrs, "href");
      if (href !== null) {
        e.link = { href: decodeEntities(href).trim(), text: "" };
        out.links.push(e.link);
        link = e.link;
      }
    }
    if (e.hidden) hidden++;
    if (e.tiny) tiny++;
    if (RAW_TEXT.has(tag)) raw++;
    stack.push(e);
  }
  text(last, html.length);
  for (const l of out.links) l.text = l.text.trim();
  return out;
}

const ATTR_RES = new Map<string, RegExp>();

function attr(attrs: string, name: string): string | null {
  if (attrs.length < name.length + 1) return null;
  let re = ATTR_RES.get(name);
  if (!re)
    ATTR_RES.set(name, (re = new RegExp(`\\b${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, "i")));
  const m = re.exec(attrs);
  return m ? (m[1] ?? m[2] ?? m[3] ?? "") : null;
}

const HIDDEN_STYLE_RE =
  /display\s*:\s*none|visibility\s*:\s*hidden|opacity\s*:\s*0(?:\.0*)?\s*(?:;|$|")|(?:^|[;"'\s])color\s*:\s*(?:#fff(?:fff)?|white)\b[^"']*background(?:-color)?\s*:\s*(?:#fff(?:fff)?|white)\b/i;
const TINY_STYLE_RE = /font-size\s*:\s*(?:0*[0-2](?:\.\d+)?px|0(?:\.\d+)?(?:em|pt|%)?\s*(?:;|$|")|[0-1]pt)/i;

function isHidden(attrs: string): boolean {
  if (attrs.length === 0) return false;
  if (/\bhidden\b(?!\s*=\s*["']?false)/i.test(attrs) && !/\btype\s*=/i.test(attrs)) return true;
  const style = attr(attrs, "style");
  if (style !== null && HIDDEN_STYLE_RE.test(style)) return true;
  // White text on the default white page: <font color="#ffffff">, style="color:#fff".
  const color =
    attr(attrs, "color") ?? (style !== null ? /(?:^|;)\s*color\s*:\s*([^;]+)/i.exec(style)?.[1] : null);
  return color !== null && color !== undefined && isWhite(color) && !/background/i.test(attrs);
}

function isTiny(tag: string, attrs: string): boolean {
  if (attrs.length === 0) return false;
  if (tag === "font") {
    const size = attr(attrs, "size");
    if (size !== null && /^\s*(?:1|0|-[2-9])\s*$/.test(size)) return true;
  }
  const style = attr(attrs, "style");
  return style !== null && TINY_STYLE_RE.test(style);
}

function isWhite(c: string): boolean {
  const v = c.trim().toLowerCase().replace(/\s+/g, "");
  return (
    v === "white" ||
    v === "#fff" ||
    v === "#ffffff" ||
    v === "fff" ||
    v === "ffffff" ||
    v === "rgb(255,255,255)"
  );
}

function nonSpace(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x26) {
      // An entity counts as one character (&nbsp; as none).
      const semi = s.indexOf(";", i);
      if (semi !== -1 && semi - i <= 10) {
        if (!/^&nbsp;$/i.test(s.slice(i, semi + 1))) n++;
        i = semi;
        continue;
      }
    }
    if (c > 0x20 && c !== 0xa0) n++;
  }
  return n;
}

const ENTITY_LETTER_RE = /&#(?:x([0-9a-f]{1,6})|(\d{1,7}));?/gi;

function countEntityLetters(s: string): number {
  if (s.indexOf("&#") === -1) return 0;
  let n = 0;
  ENTITY_LETTER_RE.lastIndex = 0;
  for (let m = ENTITY_LETTER_RE.exec(s); m !== null; m = ENTITY_LETTER_RE.exec(s)) {
    const cp = m[1] !== undefined ? parseInt(m[1], 16) : Number(m[2]);
    if ((cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a)) n++;
  }
  return n;
}

const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };

export function decodeEntities(s: string): string {
  if (s.indexOf("&") === -1) return s;
  return s.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,8});/gi, (all, e: string) => {
    if (e[0] === "#") {
      const cp = e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : Number(e.slice(1));
      return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : all;
    }
    return NAMED[e.toLowerCase()] ?? all;
  });
}
