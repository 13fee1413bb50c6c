// Refusals the MTA could not be told when they happened: a stage negotiated as no-reply
// (SMFIP_NR_*) whose Session call refused all the same — the configuration changed between
// OPTNEG and the command, or the directory failed at RCPT. They become the answer at end of
// message (or to an earlier command that does expect a reply). Bookkeeping only.
import type { Reply } from "./replies.ts";

export type DeferredStage = "connect" | "helo" | "mail" | "rcpt";

/** A recipient refusal that cannot apply to only that recipient any more: the message is retried. */
const RETRY: Reply = {
  type: "replycode",
  code: 451,
  enhanced: "4.3.0",
  text: "Recipient policy changed during the session, try again later",
};

const temporary = (r: Reply) => r.type === "tempfail" || (r.type === "replycode" && r.code < 500);

export class DeferredRefusals {
  /** CONNECT/HELO refused: every message of this SMTP session is. */
  private connection: Reply | null = null;
  /** MAIL refused: this message is. */
  private mail: Reply | null = null;
  private readonly rcpts: Reply[] = [];
  private accepted = 0;

  note(stage: DeferredStage, refusal: Reply): void {
    if (stage === "connect" || stage === "helo") this.connection ??= refusal;
    else if (stage === "mail") this.mail ??= refusal;
    else this.rcpts.push(refusal);
  }

  recipientAccepted(): void {
    this.accepted++;
  }

  /** The refusal every command of this message gets before any recipient is looked at. */
  get envelope(): Reply | null {
    return this.connection ?? this.mail;
  }

  /** Whether the message is refused whatever its content (its bytes need not reach the Session). */
  get refused(): boolean {
    return this.envelope !== null || this.rcpts.length > 0;
  }

  /**
   * The answer at end of message. A recipient refusal: when no recipient was accepted, the
   * refusal itself stands for the message (a temporary one first); otherwise a temporary one is
   * passed on, and a permanent one becomes a retry, since it cannot refuse that recipient alone.
   */
  atEndOfMessage(): Reply | null {
    if (this.envelope) return this.envelope;
    if (this.rcpts.length === 0) return null;
    const soft = this.rcpts.find(temporary);
    if (this.accepted === 0) return soft ?? this.rcpts[0]!;
    return soft ?? RETRY;
  }

  newMessage(): void {
    this.mail = null;
    this.rcpts.length = 0;
    this.accepted = 0;
  }

  newSession(): void {
    this.connection = null;
    this.newMessage();
  }
}
