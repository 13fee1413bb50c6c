// The Store seam: everything Sluice keeps durably — built-in users and their lists,
// quarantine, hold queue, message log. One contract (contract.ts) for every backend.
// A write that resolves is durable: front ends answer 250 only after it.
import type { Envelope } from "../message/envelope.ts";
import type { SymbolHit } from "../pipeline/types.ts";
import type { User } from "../policy/types.ts";

export interface StoredUser extends User {
  passwordHash: string | null;
}

export type ListKind = "whitelist" | "blacklist";

export type QuarantineState = "quarantined" | "released" | "deleted" | "expired";

export interface QuarantineRecipient {
  address: string;
  state: QuarantineState;
  reason: string;
  updatedAt: Date;
}

export interface QuarantineInput {
  id: string;
  tenant: string | null;
  envelope: Envelope;
  score: number;
  symbols: SymbolHit[];
  subject: string | null;
  message: Buffer;
  recipients: { address: string; reason: string }[];
}

export interface QuarantineItem extends Omit<QuarantineInput, "message" | "recipients"> {
  createdAt: Date;
  size: number;
  recipients: QuarantineRecipient[];
}

export type HoldState = "held" | "released" | "cancelled";

export interface HoldInput {
  id: string;
  tenant: string | null;
  envelope: Envelope;
  reason: string;
  releaseAt: Date;
  message: Buffer;
}

export interface HoldItem extends Omit<HoldInput, "message"> {
  createdAt: Date;
  state: HoldState;
  size: number;
}

export interface LogRecipient {
  address: string;
  action: string;
  score: number;
  symbols: SymbolHit[];
  trace: unknown[];
}

export interface LogEntry {
  id: string;
  at: Date;
  tenant: string | null;
  ingress: string;
  clientAddress: string;
  sender: string;
  subject: string | null;
  size: number;
  recipients: LogRecipient[];
}

export interface LogQuery {
  tenant?: string;
  recipient?: string;
  sender?: string;
  since?: Date;
  limit?: number;
}

export interface Store {
  /** Apply pending migrations (idempotent). */
  migrate(): Promise<void>;
  close(): Promise<void>;

  getUser(address: string): Promise<StoredUser | null>;
  putUser(user: StoredUser): Promise<void>;
  deleteUser(address: string): Promise<boolean>;
  listUsers(tenant: string): Promise<StoredUser[]>;
  /** Replace one of a user's lists; refuses more than maxEntries with ListLimitError. */
  setList(address: string, kind: ListKind, entries: string[], maxEntries: number): Promise<void>;

  putQuarantine(item: QuarantineInput): Promise<void>;
  getQuarantine(id: string): Promise<QuarantineItem | null>;
  listQuarantine(q: {
    tenant?: string;
    recipient?: string;
    state?: QuarantineState;
    limit?: number;
  }): Promise<QuarantineItem[]>;
  quarantineMessage(id: string): Promise<Buffer | null>;
  /** Move a recipient from one state to another; false if it was not in `from`. */
  setQuarantineState(
    id: string,
    recipient: string,
    from: QuarantineState,
    to: QuarantineState,
  ): Promise<boolean>;

  /** Remove a quarantine entry entirely (only to undo a write whose message was then refused). */
  deleteQuarantine(id: string): Promise<void>;

  putHold(item: HoldInput): Promise<void>;
  deleteHold(id: string): Promise<void>;
  getHold(id: string): Promise<HoldItem | null>;
  listHolds(q: { tenant?: string; state?: HoldState; limit?: number }): Promise<HoldItem[]>;
  holdMessage(id: string): Promise<Buffer | null>;
  setHoldState(id: string, from: HoldState, to: HoldState): Promise<boolean>;

  logMessage(entry: LogEntry): Promise<void>;
  getLog(id: string): Promise<LogEntry | null>;
  searchLog(q: LogQuery): Promise<LogEntry[]>;
}

export class ListLimitError extends Error {
  constructor(kind: ListKind, max: number, got: number) {
    super(`a ${kind} holds at most ${max} entries (got ${got})`);
    this.name = "ListLimitError";
  }
}

export class StoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreError";
  }
}
