// The classifier's view of one message: what the tokenizer and the signals read. Built by
// message-input.ts from raw bytes (training, bench, lessons) or from a pipeline Transaction
// (scoring) with the same parsers, so training sees what scoring sees.

export interface TokenizerInput {
  /** Header fields, unfolded and RFC 2047-decoded, in message order. */
  headers: readonly { name: string; value: string }[];
  /** The same fields unfolded but not decoded (encoded-word checks); absent = not checked. */
  rawHeaders?: readonly { name: string; value: string }[];
  /** Decoded plain text (for HTML-only mail: the text made from the HTML). */
  text: string;
  html: string | null;
  attachments: readonly { filename: string | null; declaredType: string; detectedType: string | null }[];
  /** Symbols of filters that ran before (SPF/DKIM/DMARC results …). */
  earlier: readonly { name: string }[];
  /** Domains the message is addressed to: the envelope's, or To/Cc offline. */
  recipientDomains?: readonly string[];
  /** When the message arrived (ms since the epoch): now, or the topmost Received offline. */
  receivedAt?: number | null;
}
