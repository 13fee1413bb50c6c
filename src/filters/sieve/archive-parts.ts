// vnd.sluice.archive: the files inside zip attachments as Sieve MIME parts, so foreverypart and
// header :mime :anychild test them like attachments. Reuses the virus filter's zip inspection (its
// byte budget, depth cap and executable detection); members get a synthesized Content-Type
// (executables as application/x-msdownload, else by file name) and Content-Disposition filename.
import libmime from "libmime";
import type { MimeTreePart, SieveMimePart } from "../../sieve/index.ts";
import { allParts } from "../../sieve/index.ts";
import { isExecutable } from "../virus/attachments.ts";
import { inspectZip, isZip } from "../virus/zip.ts";

export interface ArchiveLimits {
  depthCap: number;
  budgetBytes: number;
  maxEntries: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  depthCap: 3,
  budgetBytes: 50 * 1024 * 1024,
  maxEntries: 1000,
};

function quote(s: string): string {
  return '"' + s.replace(/[\\"]/g, (c) => "\\" + c).replace(/[\r\n]/g, " ") + '"';
}

function member(name: string, archive: string, executable: boolean, encrypted: boolean): SieveMimePart {
  const type = executable
    ? "application/x-msdownload"
    : libmime.detectMimeType(name) || "application/octet-stream";
  const headers = [
    { name: "Content-Type", value: type },
    { name: "Content-Disposition", value: `attachment; filename=${quote(name)}` },
    { name: "X-Sluice-Archive", value: archive },
  ];
  if (encrypted) headers.push({ name: "X-Sluice-Encrypted", value: "yes" });
  return { headers, children: [], text: () => "" };
}

/** Adds `members` to every zip attachment of the tree (in place); never throws for a bad archive. */
export async function addArchiveMembers(
  root: MimeTreePart,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): Promise<void> {
  for (const part of allParts(root)) {
    if (part.children.length > 0) continue;
    const content = part.content();
    if (!isZip(content)) continue;
    const archive = part.filename ?? "(unnamed)";
    const seen: { name: string; executable: boolean }[] = [];
    const facts = await inspectZip(content, archive, limits, async (name, head) => {
      const executable = await isExecutable(name, head);
      if (seen.length < limits.maxEntries) seen.push({ name, executable });
      return executable;
    });
    const encrypted = new Set(facts.encrypted.map((p) => p.slice(p.lastIndexOf("/") + 1)));
    part.members = seen.map((m) =>
      member(m.name, archive, m.executable, encrypted.has(m.name.slice(m.name.lastIndexOf("/") + 1))),
    );
  }
}
