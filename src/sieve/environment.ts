// What a script may read about the message being filtered, supplied by the caller per recipient.
// Not message parsing: header decoding, MIME walking and body transforms are the caller's job.

export interface SieveHeader {
  name: string;
  /** Unfolded and RFC 2047-decoded. */
  value: string;
}

export type BodyTransform = "raw" | "content" | "text";

/**
 * One MIME part as RFC 5703 tests see it. The root is the message itself; a message/rfc822 part has
 * the enclosed message as its one child. Built by the caller (see mime-tree.ts for a builder).
 */
export interface SieveMimePart {
  /** The part's own header fields in order, unfolded and RFC 2047-decoded. */
  headers: SieveHeader[];
  children: SieveMimePart[];
  /** The decoded text of a text/* part (extracttext); "" for any other part. */
  text(): string;
  /**
   * Gateway extension vnd.sluice.archive: the files inside an archive attachment, as parts with
   * synthesized Content-Type and Content-Disposition (filename = path inside the archive).
   */
  members?: SieveMimePart[];
}

export interface SieveEnvironment {
  envelope: {
    /** Reverse-path without angle brackets; "" for the null sender. */
    from: string;
    /** The one recipient this evaluation is for. */
    to: string;
    /** Authenticated submitter, or null. */
    auth: string | null;
  };
  /** Header fields in message order. */
  headers(): SieveHeader[];
  /**
   * RFC 5173 body parts: "raw" is the undecoded body (one string); "content" gives decoded parts whose
   * Content-Type matches one of contentTypes ("" or "type" or "type/subtype"); "text" gives text parts.
   */
  body(transform: BodyTransform, contentTypes?: string[]): string[];
  /** RFC 5703 part tree; without it the message is one part with the headers above and no children. */
  mime?(): SieveMimePart;
  /** Message size in octets (RFC 5228 size test). */
  size: number;
  /** RFC 5235 spamtest value 1..10, or null when the message was not tested. */
  spamScore: number | null;
  /** RFC 5235 spamtestplus percentage 0..100, or null when the message was not tested. */
  spamPercent: number | null;
  /** RFC 5235 virustest value 1..5, or null when the message was not tested. */
  virusStatus: number | null;
  /** Symbols raised by earlier filters: name -> score. */
  symbols: ReadonlyMap<string, number>;
  /** RFC 5183 items (domain, host, location, name, phase, remote-host, remote-ip, version, …). */
  environment: Readonly<Record<string, string>>;
  /** RFC 6134 external list membership: is value on listName? Must be synchronous and fast. */
  lists(listName: string, value: string): boolean;
  /** Whether a list name is known (valid_ext_list); falls back to the compile-time knownLists. */
  knownList?(listName: string): boolean;
  now: Date;
  /** Local zone for the date extension, "+hhmm"/"-hhmm"; default "+0000". */
  localZone?: string;
}
