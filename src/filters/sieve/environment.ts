// Builds the Sieve environment of one recipient from the transaction: envelope, headers,
// body views, spam and virus results (RFC 5235) and the lists Sluice binds (RFC 6134).
// Reads the message asynchronously up front, because a Sieve run is synchronous.
import { domainOf } from "../../message/envelope.ts";
import type { FilterContext } from "../../pipeline/types.ts";
import type { SymbolHit } from "../../message/types.ts";
import type { RecipientPolicy } from "../../policy/types.ts";
import { buildMimeTree, type MimeTreePart, type SieveEnvironment } from "../../sieve/index.ts";
import { entryMatches } from "../lists/match.ts";
import { addArchiveMembers } from "./archive-parts.ts";

const RAW_BODY_LIMIT = 1024 * 1024;
/** Bytes of the body split into MIME parts for RFC 5703 tests (foreverypart, :mime). */
export const MIME_BODY_LIMIT = 16 * 1024 * 1024;

export interface MessageData {
  headers: { name: string; value: string }[];
  rawBody: string;
  text: string;
  html: string | null;
  attachmentTypes: string[];
  size: number;
  /** RFC 5703 part tree; present when some script needs it (mime, foreverypart). */
  mime?: MimeTreePart;
}

/** What the scripts to run need beyond headers and the body views. */
export interface MessageNeeds {
  mime?: boolean;
  /** vnd.sluice.archive: open zip attachments (implies mime). */
  archives?: boolean;
}

export async function readMessage(ctx: FilterContext, needs: MessageNeeds = {}): Promise<MessageData> {
  const tx = ctx.tx!;
  const view = await tx.mime();
  const wantTree = needs.mime || needs.archives;
  const body = await readPrefix(tx.spool!.stream(tx.bodyOffset), wantTree ? MIME_BODY_LIMIT : RAW_BODY_LIMIT);
  const msg: MessageData = {
    headers: tx.headers.entries(),
    rawBody: body.subarray(0, RAW_BODY_LIMIT).toString("utf8"),
    text: view.text,
    html: view.html,
    attachmentTypes: view.attachments.map((a) => (a.detectedType ?? a.declaredType).toLowerCase()),
    size: tx.size,
  };
  if (wantTree) {
    msg.mime = buildMimeTree(Buffer.concat([tx.headers.toBuffer(), Buffer.from("\r\n"), body]));
    if (needs.archives) await addArchiveMembers(msg.mime);
  }
  return msg;
}

async function readPrefix(stream: AsyncIterable<unknown>, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    const b = c as Buffer;
    parts.push(b.subarray(0, limit - n));
    n += b.length;
    if (n >= limit) break;
  }
  return Buffer.concat(parts);
}

function typeMatches(type: string, wanted: string[]): boolean {
  return wanted.some((w) => w === "" || type === w.toLowerCase() || type.startsWith(`${w.toLowerCase()}/`));
}

/** RFC 5235 spamtest 1..10 from the recipient's spam symbols against its quarantine threshold. */
function spamValue(
  symbols: readonly SymbolHit[],
  policy: RecipientPolicy,
): { score: number; percent: number } | null {
  const spam = symbols.filter((s) => /^(BAYES_|SPAMASSASSIN_|RSPAMD_|SA_)/.test(s.name));
  if (spam.length === 0) return null;
  const score = spam.reduce((a, s) => a + (policy.scores[s.name] ?? s.score), 0);
  const limit = policy.thresholds.quarantine ?? policy.thresholds.reject ?? 10;
  const ratio = Math.max(0, Math.min(1, score / limit));
  return { score: 1 + Math.round(ratio * 9), percent: Math.round(ratio * 100) };
}

export function sieveEnvironment(
  ctx: FilterContext,
  rcpt: { address: string; policy: RecipientPolicy },
  msg: MessageData,
  internalDomains: string[],
): SieveEnvironment {
  const symbols = ctx.earlierFor(rcpt.address);
  const spam = spamValue(symbols, rcpt.policy);
  const virus = symbols.some((s) => s.name.startsWith("CLAMAV_VIRUS"))
    ? 5
    : symbols.some((s) => s.name.startsWith("CLAMAV_"))
      ? 1
      : null;
  const env = ctx.envelope;
  const lists = rcpt.policy.lists;
  return {
    envelope: { from: env.mailFrom?.address ?? "", to: rcpt.address, auth: env.auth },
    headers: () => msg.headers,
    body: (transform, contentTypes) => bodyParts(msg, transform, contentTypes),
    mime: msg.mime ? () => msg.mime! : undefined,
    size: msg.size,
    spamScore: spam?.score ?? null,
    spamPercent: spam?.percent ?? null,
    virusStatus: virus,
    symbols: new Map(symbols.map((s) => [s.name, rcpt.policy.scores[s.name] ?? s.score])),
    environment: {
      domain: env.localName,
      host: env.localName,
      location: env.auth ? "MSA" : "MTA",
      name: "Sluice",
      phase: "during",
      "remote-host": env.client.name ?? "",
      "remote-ip": env.client.address,
      version: "0.1.0",
    },
    lists(name, value) {
      const v = value.toLowerCase();
      if (name === "tag:internal-domains")
        return internalDomains.includes(v) || internalDomains.includes(domainOf(v));
      if (name === "tag:whitelist") return lists.whitelist.some((e) => entryMatches(e, v));
      if (name === "tag:blacklist") return lists.blacklist.some((e) => entryMatches(e, v));
      return false;
    },
    knownList: (name) => ["tag:internal-domains", "tag:whitelist", "tag:blacklist"].includes(name),
    now: new Date(),
  };
}

/** RFC 5173 body views over what Sluice keeps of a message (used by the filter and the CLI). */
export function bodyParts(
  msg: MessageData,
  transform: "raw" | "content" | "text",
  contentTypes?: string[],
): string[] {
  if (transform === "raw") return [msg.rawBody];
  const wanted = contentTypes ?? ["text"];
  const out: string[] = [];
  if (typeMatches("text/plain", wanted) && msg.text) out.push(msg.text);
  if (typeMatches("text/html", wanted) && msg.html)
    out.push(transform === "text" ? stripTags(msg.html) : msg.html);
  // Non-text parts are described, not kept: their presence can be tested, not their bytes.
  if (transform === "content") for (const t of msg.attachmentTypes) if (typeMatches(t, wanted)) out.push("");
  return out;
}

function stripTags(html: string): string {
  return html
    .replace(/<[^>]*>/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}
