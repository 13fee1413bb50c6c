// The pipeline's vocabulary: stages, symbols, actions, filters and their results.
// Filters see only these types — never a socket, never a protocol.
import type { Transaction } from "../message/transaction.ts";
import type { Envelope } from "../message/envelope.ts";
import type { RecipientPolicy } from "../policy/types.ts";
import type { Logger } from "pino";
import type { HeaderEdit, Notification, SmtpReply, SymbolHit } from "../message/types.ts";

/** Stage names are data: one list, used everywhere (no method names built from strings). */
export const STAGES = ["connect", "helo", "mail", "rcpt", "data"] as const;
export type Stage = (typeof STAGES)[number];

export const ACTION_TYPES = [
  "accept",
  "add-header",
  "tag-subject",
  "bcc",
  "redirect",
  "hold",
  "quarantine",
  "discard",
  "tempfail",
  "reject",
] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

export interface Action {
  type: ActionType;
  /** For reject/tempfail: the reply (the reference id is appended when shown). */
  reply?: Partial<SmtpReply>;
  /** For add-header. */
  header?: { name: string; value: string };
  /** For tag-subject. */
  prefix?: string;
  /** For redirect and bcc. */
  address?: string;
  /** For hold. */
  minutes?: number;
  /** Why (quarantine/hold/reject reason, shown to admins). */
  reason?: string;
}

export interface RecipientResult {
  symbols?: SymbolHit[];
  /** Notifications this filter wants sent for this recipient if the message is accepted. */
  notify?: Notification[];
  action?: Action;
  headers?: HeaderEdit[];
  /** Filter groups to skip for this recipient from now on (e.g. "spam" when whitelisted). */
  skip?: { group: string; reason: string }[];
  /** One line for the decision trace: what was asked and answered (e.g. which list said what). */
  note?: string;
}

export interface FilterResult extends RecipientResult {
  /** Results that apply to single recipients only, keyed by recipient address. */
  recipients?: Record<string, RecipientResult>;
}

export interface FilterContext {
  stage: Stage;
  envelope: Envelope;
  /** The message (headers and spool at the data stage; envelope only before). */
  tx: Transaction | null;
  /** Recipients this call is for, with their effective policy. */
  recipients: readonly { address: string; policy: RecipientPolicy }[];
  /** The options of this filter from the policy in force (connection level before rcpt). */
  options: Record<string, unknown>;
  /** Symbols produced so far in this message by other filters (for filters that use them). */
  earlier: readonly SymbolHit[];
  /** The same, for one recipient of this call (their policy may allow different filters). */
  earlierFor(address: string): readonly SymbolHit[];
  /** What the message log knows: has this sender written to this recipient before? */
  history: { sentBefore(sender: string, recipient: string): Promise<boolean> };
  /**
   * Mail from one of our users (authenticated): the sender's tenant and language, for notices
   * to the sender that must come from the sender's own tenant. null: the sender is not ours.
   */
  sender?: () => Promise<SenderInfo | null>;
  signal: AbortSignal;
  log: Logger;
}

export interface SenderInfo {
  address: string;
  tenant: RecipientPolicy["tenant"] & object;
  language: "en" | "ja";
}

export interface Filter {
  readonly name: string;
  /** Filters of one group share a per-user switch (e.g. "spam": the user's spam filter ON/OFF). */
  readonly group: string;
  readonly stages: readonly Stage[];
  /** Lower runs first; the policy may override. */
  readonly priority: number;
  /** Whether the filter runs when the policy says nothing about it. */
  readonly enabledByDefault: boolean;
  /** Validates and fills defaults of this filter's options at configuration load. */
  parseOptions(raw: unknown): Record<string, unknown>;
  check(ctx: FilterContext): Promise<FilterResult> | FilterResult;
}
