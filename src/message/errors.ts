// Typed errors for message intake: each carries the SMTP reply a front end should give
// (a catalogue reply, src/message/replies.ts). Not for filter results (those are symbols) —
// only for input Sluice cannot take in at all.
import { REPLIES, ReplyError } from "./replies.ts";

export class MessageError extends ReplyError {
  constructor(
    name: "messageTooLarge" | "headerTooLarge" | "messageLineTooLong" | "nulByte",
    message: string,
  ) {
    super({ ...REPLIES[name], text: message }, message);
    this.name = "MessageError";
  }
}

/** The message (or its header section) is over a configured size limit. */
export class MessageTooLargeError extends MessageError {
  constructor(what: "message" | "header section", limit: number) {
    super(
      what === "message" ? "messageTooLarge" : "headerTooLarge",
      `${what} exceeds the limit of ${limit} bytes`,
    );
    this.name = "MessageTooLargeError";
  }
}

/** A line of the message (header or body) is longer than the configured limit. */
export class MessageLineTooLongError extends MessageError {
  constructor(limit: number) {
    super("messageLineTooLong", `message line longer than ${limit} bytes`);
    this.name = "MessageLineTooLongError";
  }
}

/** The message contains a NUL byte and policy refuses them (limits.nul_bytes: reject). */
export class NulByteError extends MessageError {
  constructor() {
    super("nulByte", "NUL character in message data");
    this.name = "NulByteError";
  }
}
