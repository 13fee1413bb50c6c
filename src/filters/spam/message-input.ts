// Builds the tokenizer's input from raw message bytes (training, bench) or from a pipeline
// Transaction (scoring) — the same shared parsers either way, so training sees what scoring sees.
import { Readable } from "node:stream";
import { parseHeaderSection } from "../../message/headers.ts";
import { parseMime, type MimeView } from "../../message/mime.ts";
import { DEFAULT_INTAKE, type Transaction } from "../../message/transaction.ts";
import type { TokenizerInput } from "./tokenizer.ts";

/**
 * Raw bytes of one message (a leading mbox "From " line is dropped) to tokenizer input, with
 * the pipeline's own text limit so training sees exactly what scoring sees.
 */
export async function inputFromBytes(raw: Buffer): Promise<TokenizerInput> {
  const msg = stripMboxFrom(raw);
  const end = headerEnd(msg);
  const headers = parseHeaderSection(msg.subarray(0, end)).entries();
  const view = await parseMime(Readable.from([msg]), { maxTextChars: DEFAULT_INTAKE.maxTextChars });
  return fromView(headers, view, []);
}

export async function inputFromTransaction(
  tx: Transaction,
  earlier: readonly { name: string }[],
): Promise<TokenizerInput> {
  return fromView(tx.headers.entries(), await tx.mime(), earlier);
}

function fromView(
  headers: { name: string; value: string }[],
  view: MimeView,
  earlier: readonly { name: string }[],
): TokenizerInput {
  return { headers, text: view.text, html: view.html, attachments: view.attachments, earlier };
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
