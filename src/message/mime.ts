// The lazy MIME view of a message: parsed once from the spool (streaming, with
// mailparser), shared by every filter. Text parts are decoded to Unicode from any
// charset (ISO-2022-JP, Shift_JIS, EUC-JP …); attachments are described — declared
// and detected type (magic bytes via file-type), size, SHA-256 — not kept in memory.
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { MailParser, type AttachmentStream, type MessageText } from "mailparser";
import { fileTypeFromBuffer } from "file-type";

export interface AttachmentInfo {
  filename: string | null;
  /** Content-Type as declared by the sender. */
  declaredType: string;
  /** Type detected from the content's magic bytes, or null when unknown. */
  detectedType: string | null;
  disposition: string | null;
  size: number;
  sha256: string;
}

export interface MimeView {
  /** Decoded plain text of the message (text/plain parts), possibly truncated. */
  text: string;
  /** Decoded HTML (text/html parts) or null. */
  html: string | null;
  attachments: AttachmentInfo[];
  /** True when text or html was cut at the configured limit. */
  truncated: boolean;
  /** Parse problems noted on the way; the view is still usable. */
  errors: string[];
}

export interface MimeOptions {
  /** Maximum characters of decoded text and of HTML kept. */
  maxTextChars: number;
}

const SNIFF_BYTES = 4100;

/** Parse a raw message stream into a MimeView. Never throws for malformed input. */
export async function parseMime(raw: Readable, opts: MimeOptions): Promise<MimeView> {
  const view: MimeView = { text: "", html: null, attachments: [], truncated: false, errors: [] };
  const parser = new MailParser({
    skipImageLinks: true,
    skipTextToHtml: true,
    skipTextLinks: true,
    checksumAlgo: false,
    maxHtmlLengthToParse: opts.maxTextChars,
  });
  const pending: Promise<void>[] = [];
  parser.on("data", (data: AttachmentStream | MessageText) => {
    if (data.type === "attachment") pending.push(describeAttachment(data, view));
    else {
      const text = data.text ?? "";
      const html = typeof data.html === "string" ? data.html : null;
      if (text.length > opts.maxTextChars || (html && html.length > opts.maxTextChars)) view.truncated = true;
      view.text = text.slice(0, opts.maxTextChars);
      view.html = html === null ? null : html.slice(0, opts.maxTextChars);
    }
  });
  await new Promise<void>((resolve) => {
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      if (err) view.errors.push(err.message);
      resolve();
    };
    parser.on("end", () => finish());
    parser.on("error", finish);
    raw.on("error", finish);
    raw.pipe(parser);
  });
  await Promise.all(pending);
  return view;
}

async function describeAttachment(att: AttachmentStream, view: MimeView): Promise<void> {
  const hash = createHash("sha256");
  const head: Buffer[] = [];
  let headLen = 0;
  let size = 0;
  try {
    for await (const chunk of att.content) {
      const b = chunk as Buffer;
      hash.update(b);
      size += b.length;
      if (headLen < SNIFF_BYTES) {
        head.push(b.subarray(0, SNIFF_BYTES - headLen));
        headLen += Math.min(b.length, SNIFF_BYTES - headLen);
      }
    }
  } catch (err) {
    view.errors.push(`attachment ${att.filename ?? "(unnamed)"}: ${(err as Error).message}`);
  } finally {
    att.release?.();
  }
  // file-type throws on some truncated containers; unknown is the honest answer then.
  const detected = await fileTypeFromBuffer(Buffer.concat(head)).then(
    (t) => t?.mime ?? null,
    () => null,
  );
  view.attachments.push({
    filename: att.filename ?? null,
    declaredType: att.contentType,
    detectedType: detected,
    disposition: att.contentDisposition ?? null,
    size,
    sha256: hash.digest("hex"),
  });
}
