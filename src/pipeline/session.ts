// The Session seam: what both front ends (SMTP listener, milter server) drive, one call
// per SMTP step. The pipeline implements it (pipeline-session.ts); no filter sees a protocol.
import type { Ingress } from "../message/envelope.ts";
import type { MessageWriter, Transaction } from "../message/transaction.ts";
import type { HeaderEdit, Notification, SmtpReply, SymbolHit } from "../message/types.ts";
import type { TraceEntry } from "./trace.ts";

export interface ConnectInfo {
  ingress: Ingress;
  address: string;
  port?: number;
  /** Reverse DNS name of the client, if known. */
  name?: string;
  /** Our own host name. */
  localName: string;
}

/** ok: go on. Otherwise answer this command with the reply (4xx/5xx). */
export type StageReply = { ok: true } | { ok: false; reply: SmtpReply };

export type Disposition = "deliver" | "quarantine" | "hold" | "discard";

/** Recipients that end with the same outcome and the same content: one copy each. */
export interface OutcomeGroup {
  recipients: string[];
  disposition: Disposition;
  /** Header edits for this copy (spam headers, tagged subject …), in order. */
  edits: HeaderEdit[];
  /** Extra recipients that get this copy (bcc, redirect target replaces recipients). */
  bcc: string[];
  redirect: string | null;
  reason: string | null;
  holdMinutes: number | null;
}

export interface RecipientVerdict {
  address: string;
  action: string;
  score: number;
  symbols: SymbolHit[];
  trace: TraceEntry[];
  /** The refusal this recipient got ("550 5.7.1 … [ref …]"), when it was refused. */
  reply?: string;
  /** Where it was refused: connect, helo, mail, rcpt or data (absent: accepted at DATA). */
  stage?: string;
}

export interface DataResult {
  /**
   * A 4xx/5xx reply for the whole message, or null: the message is accepted and the front
   * end answers 250 once every group is delivered or stored (never before).
   */
  reply: SmtpReply | null;
  groups: OutcomeGroup[];
  verdicts: RecipientVerdict[];
  /** To send (from the null sender) once the message is committed; none when refused. */
  notifications?: Notification[];
}

export interface Session {
  /** The transaction in progress (after MAIL), else null. */
  readonly tx: Transaction | null;
  connect(info: ConnectInfo): Promise<StageReply>;
  helo(name: string): Promise<StageReply>;
  /** TLS is up (STARTTLS done, implicit TLS, or the MTA's {tls_version}/{cipher} macros). */
  setTls(protocol: string, cipher: string): void;
  /** The client authenticated (SMTP AUTH or the MTA's {auth_authen} macro). */
  setAuth(login: string | null): void;
  mail(address: string, params: Record<string, string | true>): Promise<StageReply>;
  rcpt(address: string, params: Record<string, string | true>): Promise<StageReply>;
  /** Start receiving the message; write the bytes, call end(), then data(). */
  beginData(): MessageWriter;
  /** Run the data stage and build per-recipient verdicts and outcome groups. */
  data(): Promise<DataResult>;
  /**
   * The front end refused the message itself with a reply carrying the transaction's reference
   * id (an intake limit, bare CR/LF in DATA): the pipeline records it in the message log and
   * counts it, so every reference id a client is given leads to an entry.
   */
  noteRefusal?(stage: string, reply: SmtpReply): void;
  /**
   * The message was scanned and logged, then refused when it was committed (the next hop said
   * no, the store was down): its message-log entries get the reply the client got.
   */
  noteCommitRefusal?(reply: SmtpReply): Promise<void>;
  /** Forget the transaction (RSET, ABORT, or after the message is done) and free its spool. */
  reset(): Promise<void>;
  close(): Promise<void>;
}
