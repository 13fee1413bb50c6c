// Builds the tokenizer's input from raw message bytes (training, bench) or from a pipeline
// Transaction (scoring) — the same shared parsers either way, so training sees what scoring sees.
import { Readable } from "node:stream";
import { fieldValueFolded, parseHeaderSection, unfold, type HeaderList } from "../../message/headers.ts";
import { parseMime, type MimeView } from "../../message/mime.ts";
import { DEFAULT_INTAKE, type Transaction } from "../../message/transaction.ts";
import type { TokenizerInput } from "./input.ts";

/**
 * Raw bytes of one message (a leading mbox "From " line is dropped) to tokenizer input, with
 * the pipeline's own text limit so training sees exactly what scoring sees.
 */
export async function inputFromBytes(raw: Buffer): Promise<TokenizerInput> {
  const msg = stripMboxFrom(raw);
  const end = headerEnd(msg);
  const list = parseHeaderSection(msg.subarray(0, end));
  const view = await parseMime(Readable.from([msg]), { maxTextChars: DEFAULT_INTAKE.maxTextChars });
  const input = fromView(list, view, []);
  // Offline there is no envelope: the addressees are To/Cc, arrival is the topmost Received.
  input.recipientDomains = headerDomains(input.headers);
  input.receivedAt = topReceivedTime(input.headers);
  return input;
}

export async function inputFromTransaction(
  tx: Transaction,
  earlier: readonly { name: string }[],
): Promise<TokenizerInput> {
  const input = fromView(tx.headers, await tx.mime(), earlier);
  input.recipientDomains = [
    ...new Set(
      tx.envelope.recipients.map((r) => r.address.slice(r.address.lastIndexOf("@") + 1).toLowerCase()),
    ),
  ];
  input.receivedAt = tx.receivedAt.getTime();
  return input;
}

function fromView(list: HeaderList, view: MimeView, earlier: readonly { name: string }[]): TokenizerInput {
  const rawHeaders = list.fields
    .filter((f) => !f.malformed && /^(subject|from)$/i.test(f.name))
    .map((f) => ({ name: f.name, value: unfold(fieldValueFolded(f)).trim() }));
  return {
    headers: list.entries(),
    rawHeaders,
    text: view.text,
    html: view.html,
    attachments: view.attachments,
    earlier,
  };
}

function headerDomains(headers: readonly { name: string; value: string }[]): string[] {
  const out = new Set<string>();
  for (const h of headers) {
    if (!/^(to|cc)$/i.test(h.name)) continue;
    for (const m of h.value.matchAll(/@([a-z0-9.-]+\.[a-z]{2,})/gi)) out.add(m[1]!.toLowerCase());
  }
  return [...out];
}

function topReceivedTime(headers: readonly { name: string; value: string }[]): number | null {
  const r = headers.find((h) => h.name.toLowerCase() === "received");
  const semi = r ? r.value.lastIndexOf(";") : -1;
  if (!r || semi === -1) return null;
  const t = Date.parse(
    r.value
      .slice(semi + 1)
      .replace(/\s*\([^)]*\)\s*$/, "")
      .trim(),
  );
  return Number.isNaN(t) ? null : t;
}

export function stripMboxFrom(b: Buffer): Buffer {
  if (b.subarray(0, 5).toString("latin1") !== "From ") return b;
  const nl = b.indexOf(0x0a);
  return nl === -1 ? b : b.subarray(nl + 1);
}

function headerEnd(b: Buffer): number {
  const lf = b.indexOf("\n\n");
  const crlf = b.indexOf("\r\n\r\n");
  if (lf === -1 && crlf === -1) return b.length;
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return crlf + 2;
  return lf + 1;
}
