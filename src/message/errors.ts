// Typed errors for message intake: each carries the SMTP reply a front end should give.
// Not for filter results (those are symbols) — only for input Sluice cannot take in at all.

export class MessageError extends Error {
  readonly code: number;
  readonly enhanced: string;
  constructor(message: string, code: number, enhanced: string) {
    super(message);
    this.name = "MessageError";
    this.code = code;
    this.enhanced = enhanced;
  }
}

/** The message (or its header section) is over a configured size limit. */
export class MessageTooLargeError extends MessageError {
  constructor(what: "message" | "header section", limit: number) {
    super(`${what} exceeds the limit of ${limit} bytes`, 552, what === "message" ? "5.3.4" : "5.6.0");
    this.name = "MessageTooLargeError";
  }
}

/** A line of the message (header or body) is longer than the configured limit. */
export class MessageLineTooLongError extends MessageError {
  constructor(limit: number) {
    super(`message line longer than ${limit} bytes`, 554, "5.6.0");
    this.name = "MessageLineTooLongError";
  }
}

/** The message contains a NUL byte and policy refuses them (limits.nul_bytes: reject). */
export class NulByteError extends MessageError {
  constructor() {
    super("NUL character in message data", 554, "5.6.0");
    this.name = "NulByteError";
  }
}
