// A safe preview of a stored message: headers, plain text, and the HTML part sanitised
// (sanitize-html: no scripts, handlers, forms, styles or remote URLs; images only as data:)
// and wrapped in a document whose CSP blocks every load. The console shows it in an
// <iframe sandbox=""> as a second wall. Not a renderer for delivery: the message is untouched.
import { simpleParser } from "mailparser";
import sanitizeHtml from "sanitize-html";

export interface MailPreview {
  from: string;
  to: string;
  subject: string;
  date: string | null;
  text: string;
  /** A complete HTML document (sanitised body + CSP meta), or null for text-only mail. */
  html: string | null;
  attachments: { filename: string | null; contentType: string; size: number }[];
}

export const PREVIEW_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; form-action 'none'";

const MAX_TEXT = 200_000;

export function sanitizeMailHtml(html: string): string {
  return sanitizeHtml(html, {
    allowedTags: [...sanitizeHtml.defaults.allowedTags, "img", "font", "center"],
    allowedAttributes: {
      a: ["href", "title"],
      img: ["src", "alt", "width", "height"],
      td: ["colspan", "rowspan", "align", "valign", "width"],
      th: ["colspan", "rowspan", "align", "valign", "width"],
      table: ["width", "border", "cellpadding", "cellspacing", "align"],
      font: ["color", "size"],
      "*": ["align", "dir", "lang"],
    },
    allowedSchemes: ["http", "https", "mailto"],
    allowedSchemesByTag: { img: ["data"] },
    allowProtocolRelative: false,
    disallowedTagsMode: "discard",
    // Relative image URLs would resolve against the console's origin: keep data: images only.
    transformTags: {
      img: (tagName, attribs) => ({
        tagName,
        attribs: /^data:/i.test(attribs.src ?? "") ? attribs : { ...attribs, src: "" },
      }),
    },
  });
}

export async function previewMessage(raw: Buffer): Promise<MailPreview> {
  const m = await simpleParser(raw, { skipImageLinks: true, skipTextLinks: true });
  const addr = (a: typeof m.from | typeof m.to): string =>
    [a ?? []]
      .flat()
      .map((x) => x.text)
      .join(", ");
  const html = typeof m.html === "string" ? sanitizeMailHtml(m.html) : null;
  return {
    from: addr(m.from),
    to: addr(m.to),
    subject: m.subject ?? "",
    date: m.date ? m.date.toISOString() : null,
    text: (m.text ?? "").slice(0, MAX_TEXT),
    html:
      html === null
        ? null
        : `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${PREVIEW_CSP}"><base target="_blank"></head><body>${html}</body></html>`,
    attachments: m.attachments.map((a) => ({
      filename: a.filename ?? null,
      contentType: a.contentType,
      size: a.size,
    })),
  };
}
