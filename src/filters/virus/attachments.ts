// Attachment policy: streams the attachments out of the raw message (mailparser), detects each
// one's type from its magic bytes (file-type), opens zips (zip.ts, yauzl), and judges the facts against
// one tenant's options. Facts are gathered once per message; judging is per recipient.
import type { Readable } from "node:stream";
import { MailParser, type AttachmentStream } from "mailparser";
import { fileTypeFromBuffer } from "file-type";
import { inspectZip, isZip, type ArchiveFacts } from "./zip.ts";
import type { VirusOptions } from "./options.ts";

export interface AttachmentFacts {
  filename: string;
  declaredType: string;
  detectedType: string | null;
  size: number;
  archive: ArchiveFacts | null;
}

export interface InspectLimits {
  maxInspectBytes: number;
  depthCap: number;
  budgetBytes: number;
}

export interface Finding {
  symbol: string;
  attachment: string;
  reason: string;
  /** "block" applies the tenant's attachment action; "quarantine" always quarantines. */
  verdict: "block" | "quarantine" | "note";
}

const SNIFF = 4100;
const EXECUTABLE_TYPES = new Set([
  "application/x-msdownload",
  "application/x-elf",
  "application/x-mach-binary",
]);
const EXECUTABLE_EXT =
  /\.(exe|com|scr|pif|bat|cmd|vbs|vbe|js|jse|wsf|wsh|msi|msp|cpl|hta|jar|ps1|lnk|reg|dll|scf)$/i;

async function detect(head: Buffer): Promise<string | null> {
  // file-type throws on some truncated containers; unknown is the honest answer then.
  return fileTypeFromBuffer(head).then(
    (t) => t?.mime ?? null,
    () => null,
  );
}

export async function isExecutable(name: string, head: Buffer): Promise<boolean> {
  if (EXECUTABLE_EXT.test(name)) return true;
  if (head.length === 0) return false;
  const t = await detect(head);
  return t !== null && EXECUTABLE_TYPES.has(t);
}

/** Reads every attachment of the raw message; never throws for malformed MIME. */
export async function inspectAttachments(raw: Readable, limits: InspectLimits): Promise<AttachmentFacts[]> {
  const out: AttachmentFacts[] = [];
  const parser = new MailParser({ skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true });
  const pending: Promise<void>[] = [];
  parser.on("data", (data: { type: string }) => {
    if (data.type === "attachment") pending.push(readOne(data as AttachmentStream, limits, out));
  });
  await new Promise<void>((resolve) => {
    parser.on("end", () => resolve());
    parser.on("error", () => resolve());
    raw.on("error", () => resolve());
    raw.pipe(parser);
  });
  await Promise.all(pending);
  return out;
}

async function readOne(att: AttachmentStream, limits: InspectLimits, out: AttachmentFacts[]): Promise<void> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const c of att.content) {
      const b = c as Buffer;
      size += b.length;
      // Keep everything up to the cap, then only what sniffing needs.
      if (size <= limits.maxInspectBytes || chunks.length === 0) chunks.push(b);
    }
  } catch {
    // A broken part is still described with what arrived.
  } finally {
    att.release?.();
  }
  const data = Buffer.concat(chunks);
  const filename = att.filename ?? "";
  let archive: ArchiveFacts | null = null;
  if (size <= limits.maxInspectBytes && isZip(data)) {
    archive = await inspectZip(
      data,
      filename || "(unnamed)",
      {
        depthCap: limits.depthCap,
        budgetBytes: limits.budgetBytes,
        maxEntries: 10_000,
        maxEntryBytes: limits.maxInspectBytes,
      },
      isExecutable,
    );
  }
  out.push({
    filename,
    declaredType: att.contentType ?? "application/octet-stream",
    detectedType: await detect(data.subarray(0, SNIFF)),
    size,
    archive,
  });
}

function typeMatches(type: string | null, patterns: readonly string[]): boolean {
  if (!type) return false;
  const t = type.toLowerCase();
  return patterns.some((p) =>
    p.endsWith("/*") ? t.startsWith(p.slice(0, -1).toLowerCase()) : t === p.toLowerCase(),
  );
}

/** "invoice.pdf.exe", "photo.jpg  .scr", or a right-to-left override hiding the real extension. */
export function isDoubleExtension(name: string): boolean {
  if (/[\u202a-\u202e\u2066-\u2069]/.test(name)) return true;
  return /\.[a-z0-9]{2,5}[\s.]*\.[a-z0-9]{2,4}$/i.test(name) && EXECUTABLE_EXT.test(name.trim());
}

/** Judges the facts against one tenant's attachment options. */
export function judgeAttachments(facts: readonly AttachmentFacts[], o: VirusOptions): Finding[] {
  const a = o.attachments;
  if (!a.enabled) return [];
  const out: Finding[] = [];
  for (const f of facts) {
    const name = f.filename || "(unnamed)";
    if (typeMatches(f.detectedType, a.block_types)) {
      out.push({
        symbol: "ATTACHMENT_BLOCKED_TYPE",
        attachment: name,
        reason: `type ${f.detectedType}`,
        verdict: "block",
      });
    } else if (typeMatches(f.declaredType, a.block_types)) {
      out.push({
        symbol: "ATTACHMENT_BLOCKED_TYPE",
        attachment: name,
        reason: `declared ${f.declaredType}`,
        verdict: "block",
      });
    }
    if (a.block_double_ext && f.filename && isDoubleExtension(f.filename)) {
      out.push({
        symbol: "ATTACHMENT_DOUBLE_EXT",
        attachment: name,
        reason: "double extension",
        verdict: "block",
      });
    } else if (f.filename && o.compiled.blockNames.some((r) => r.test(f.filename))) {
      out.push({
        symbol: "ATTACHMENT_BLOCKED_NAME",
        attachment: name,
        reason: "file name",
        verdict: "block",
      });
    }
    const z = f.archive;
    if (!z) continue;
    if (z.executables.length && a.archives.executables === "block") {
      out.push({
        symbol: "ARCHIVE_EXECUTABLE",
        attachment: name,
        reason: `executable ${z.executables[0]}`,
        verdict: "block",
      });
    }
    if (z.encrypted.length && a.archives.encrypted !== "allow") {
      out.push({
        symbol: "ARCHIVE_ENCRYPTED",
        attachment: name,
        reason: `encrypted ${z.encrypted[0]}`,
        verdict: a.archives.encrypted === "block" ? "block" : "quarantine",
      });
    } else if (z.encrypted.length) {
      out.push({
        symbol: "ARCHIVE_ENCRYPTED",
        attachment: name,
        reason: `encrypted ${z.encrypted[0]}`,
        verdict: "note",
      });
    }
    if (z.depth > a.archives.max_depth) {
      out.push({
        symbol: "ARCHIVE_TOO_DEEP",
        attachment: name,
        reason: `nested deeper than ${a.archives.max_depth}`,
        verdict: "block",
      });
    }
    if (z.bomb || z.maxRatio > a.archives.max_ratio) {
      const why = z.bomb ? "expands past the inspection budget" : `expansion ratio ${Math.round(z.maxRatio)}`;
      out.push({ symbol: "ARCHIVE_BOMB", attachment: name, reason: why, verdict: "block" });
    }
    if (z.unreadable) {
      out.push({ symbol: "ARCHIVE_UNREADABLE", attachment: name, reason: z.unreadable, verdict: "note" });
    }
  }
  return out;
}
