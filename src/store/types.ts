// The Store seam: everything Sluice keeps durably — built-in users and their lists,
// quarantine, hold queue, message log. One contract (contract.ts) for every backend.
// A write that resolves is durable: front ends answer 250 only after it.
import type { Envelope } from "../message/envelope.ts";
import type { SymbolHit } from "../message/types.ts";
import type { User } from "../message/types.ts";

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
  /** This recipient's own filter results (rows written before they were kept: the entry's). */
  score: number;
  symbols: SymbolHit[];
}

export interface QuarantineInput {
  id: string;
  tenant: string | null;
  envelope: Envelope;
  score: number;
  symbols: SymbolHit[];
  subject: string | null;
  message: Buffer;
  /** Each recipient with its own filter results (default: the entry's score and symbols). */
  recipients: { address: string; reason: string; score?: number; symbols?: SymbolHit[] }[];
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
  /** Approval mode: who must approve before it leaves (null: released by time alone). */
  approver: string | null;
  approvedBy: string | null;
  /** When the sender's hold notice went out (null: not yet). */
  noticeSentAt: Date | null;
}

export interface HoldPatch {
  releaseAt?: Date;
  approver?: string | null;
  approvedBy?: string | null;
  noticeSentAt?: Date;
}

/**
 * A release in flight (quarantine → next hop, or hold → next hop), keyed by an idempotency
 * key: claimed (recipients reserved, nothing sent) → delivered (the next hop's answer is
 * recorded) → done (item states updated). An open claim found at start-up is resumed.
 */
export interface ReleaseClaimInput {
  key: string;
  kind: "quarantine" | "hold";
  itemId: string;
  /** Quarantine: the recipients to release ("all": every quarantined one). Hold: ignored. */
  recipients: string[] | "all";
  actor: string;
}

export interface ReleaseClaim extends Omit<ReleaseClaimInput, "recipients"> {
  /** What this claim reserved (empty: nothing was left to release). */
  recipients: string[];
  state: "claimed" | "delivered" | "done";
  accepted: string[];
  failed: { address: string; reason: string }[];
  createdAt: Date;
}

export interface LogRecipient {
  address: string;
  action: string;
  score: number;
  symbols: SymbolHit[];
  trace: unknown[];
  /** The refusal this recipient got (with the reference id), when it was refused. */
  reply?: string;
  /** Where it was refused (connect, helo, mail, rcpt, data); absent: accepted at DATA. */
  stage?: string;
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
  /** A message's reference id: its entry and its other tenants' entries (`<ref>-T<n>`). */
  ref?: string;
  tenant?: string;
  recipient?: string;
  sender?: string;
  since?: Date;
  /** Strictly before. */
  before?: Date;
  /** Case-insensitive substring of the subject, the sender, a recipient or the reference id. */
  text?: string;
  /** Case-insensitive substring of the subject. */
  subject?: string;
  limit?: number;
  /** Entries skipped before the first one returned (paging). */
  offset?: number;
  sort?: "at" | "sender" | "subject" | "size";
  order?: "asc" | "desc";
}

export interface QuarantineQuery {
  tenant?: string;
  recipient?: string;
  state?: QuarantineState;
  /** Created at or after / strictly before. */
  since?: Date;
  before?: Date;
  /** Case-insensitive substring of the subject, the sender, a recipient or the id. */
  text?: string;
  /** The envelope sender (exact, case-insensitive). */
  sender?: string;
  limit?: number;
  /** Entries skipped before the first one returned (paging). */
  offset?: number;
  sort?: "created" | "sender" | "subject" | "score" | "size";
  order?: "asc" | "desc";
}

/**
 * What a user of the configuration file or of LDAP set for themselves (the portal): laid over
 * the directory's answer, field by field; null leaves the directory's value (or the default).
 */
export interface UserOverride {
  address: string;
  tenant: string;
  spamFilter: boolean | null;
  language: "en" | "ja" | null;
  whitelist: string[] | null;
  blacklist: string[] | null;
  updatedAt: Date;
  /** Who made the last change (the user, or an administrator's login). */
  updatedBy: string;
}

// ---- the Store, by role: a caller that needs one part takes that role, not the whole Store ----

export interface StoreLifecycle {
  /** Apply pending migrations (idempotent). */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

/** Built-in directory users and their white/black lists. */
export interface UserStore {
  getUser(address: string): Promise<StoredUser | null>;
  putUser(user: StoredUser): Promise<void>;
  deleteUser(address: string): Promise<boolean>;
  listUsers(tenant: string): Promise<StoredUser[]>;
  /** Replace one of a user's lists; refuses more than maxEntries with ListLimitError. */
  setList(address: string, kind: ListKind, entries: string[], maxEntries: number): Promise<void>;
}

/** Per-user overrides of directory users (src/policy/override-directory.ts). */
export interface UserOverrideStore {
  getUserOverride(address: string): Promise<UserOverride | null>;
  /** Create or replace; a list over maxEntries is refused with ListLimitError. */
  putUserOverride(o: Omit<UserOverride, "updatedAt">, maxEntries: number): Promise<void>;
  deleteUserOverride(address: string): Promise<boolean>;
  listUserOverrides(tenant: string): Promise<UserOverride[]>;
}

export interface QuarantineStore {
  putQuarantine(item: QuarantineInput): Promise<void>;
  getQuarantine(id: string): Promise<QuarantineItem | null>;
  listQuarantine(q: QuarantineQuery): Promise<QuarantineItem[]>;
  /** How many entries listQuarantine would find without limit and offset. */
  countQuarantine(q: QuarantineQuery): Promise<number>;
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
}

export interface HoldStore {
  putHold(item: HoldInput): Promise<void>;
  deleteHold(id: string): Promise<void>;
  getHold(id: string): Promise<HoldItem | null>;
  listHolds(q: { tenant?: string; state?: HoldState; limit?: number }): Promise<HoldItem[]>;
  holdMessage(id: string): Promise<Buffer | null>;
  setHoldState(id: string, from: HoldState, to: HoldState): Promise<boolean>;
  /** Change a held entry's schedule, approval or notice mark; false if it is no longer held. */
  updateHold(id: string, patch: HoldPatch): Promise<boolean>;
}

/** The exactly-once release state machine of quarantine and hold entries. */
export interface ReleaseStore {
  /**
   * Reserve what a release will send, atomically: quarantine recipients still quarantined and
   * not reserved by another key; a hold still held and unreserved. The same key again returns
   * the existing claim unchanged (idempotent).
   */
  claimRelease(c: ReleaseClaimInput): Promise<ReleaseClaim>;
  /** claimed → delivered, with the next hop's answer. */
  recordReleaseDelivery(
    key: string,
    accepted: string[],
    failed: { address: string; reason: string }[],
  ): Promise<void>;
  /**
   * → done: accepted quarantine recipients become released, the others are unreserved (still
   * quarantined); a hold with any accepted recipient becomes released, else is unreserved.
   * A claim finished without a recorded delivery releases nothing.
   */
  finishRelease(key: string): Promise<void>;
  getRelease(key: string): Promise<ReleaseClaim | null>;
  /** Claims not done (to resume after a crash). */
  openReleases(): Promise<ReleaseClaim[]>;
}

/** Single-use tokens and named high-water marks of periodic jobs. */
export interface JobStore {
  /** Single-use tokens: true the first time a key is consumed (until it expires), then false. */
  consumeToken(key: string, expiresAt: Date): Promise<boolean>;
  /** Named high-water marks for periodic jobs (e.g. the last digest of a tenant). */
  getCursor(name: string): Promise<Date | null>;
  setCursor(name: string, at: Date): Promise<void>;
}

export interface MessageLogStore {
  logMessage(entry: LogEntry): Promise<void>;
  getLog(id: string): Promise<LogEntry | null>;
  searchLog(q: LogQuery): Promise<LogEntry[]>;
  /** How many entries searchLog would find without limit and offset. */
  countLog(q: LogQuery): Promise<number>;
  /**
   * Replace an entry's recipients (their verdicts), e.g. when the message was refused after its
   * entry was written (the next hop refused it at commit); the indexed addresses stay.
   */
  updateLogRecipients(id: string, recipients: LogRecipient[]): Promise<void>;
}

/** Web console accounts and sessions (src/web/). */
export interface AccountStore {
  getAccount(login: string): Promise<ConsoleAccount | null>;
  putAccount(account: ConsoleAccount): Promise<void>;
  listAccounts(): Promise<ConsoleAccount[]>;
  /** Sessions are keyed by a hash of the cookie token, never the token itself. */
  putSession(session: WebSession): Promise<void>;
  /** The session, or null when unknown or expired. */
  getSession(id: string): Promise<WebSession | null>;
  deleteSession(id: string): Promise<void>;
}

export interface AuditStore {
  appendAudit(entry: AuditEntry): Promise<void>;
  /** Newest first. */
  listAudit(q: { tenant?: string; limit?: number }): Promise<AuditEntry[]>;
}

/** Cluster: configuration revisions, node heartbeats, shadow runs (src/cluster/). */
export interface ConfigRevisionStore {
  /** Store a new revision (numbered across roles, ascending); validation happens before this. */
  publishConfig(r: ConfigRevisionInput): Promise<ConfigRevision>;
  getConfigRevision(rev: number): Promise<ConfigRevision | null>;
  /** The newest revision of a role (what its nodes should run), or null. */
  latestConfigRevision(role: string): Promise<ConfigRevision | null>;
  /** Newest first. */
  listConfigRevisions(q: { role?: string; limit?: number }): Promise<ConfigRevision[]>;
  putHeartbeat(h: NodeHeartbeat): Promise<void>;
  /** By node name. */
  listHeartbeats(): Promise<NodeHeartbeat[]>;
  /**
   * Push notice of new revisions where the backend has one (PostgreSQL LISTEN/NOTIFY);
   * absent: callers poll latestConfigRevision. onState reports the listening link up/down.
   */
  watchConfig?(
    onRevision: (role: string, rev: number) => void,
    onState?: (up: boolean, err?: Error) => void,
  ): Promise<{ close(): Promise<void> }>;
  /** Shadow rollout: a candidate configuration evaluated beside the live one on chosen nodes. */
  startShadow(s: ShadowInput): Promise<ShadowRun>;
  getShadow(id: number): Promise<ShadowRun | null>;
  /** Newest first. */
  listShadows(q: { role?: string; state?: ShadowRun["state"] }): Promise<ShadowRun[]>;
  /** running → published | discarded; false if it was no longer running. */
  endShadow(id: number, state: "published" | "discarded"): Promise<boolean>;
  /** Count `evaluated` messages for a node and keep the recipients whose action would change. */
  recordShadow(id: number, node: string, evaluated: number, diffs: ShadowDiff[]): Promise<void>;
  shadowReport(id: number, limit?: number): Promise<ShadowReport>;
}

/** Sender authentication: DKIM keys (src/filters/auth/key-store.ts). */
export interface DkimKeyStore {
  /** Insert or replace the key of (domain, selector). */
  putDkimKey(key: DkimKeyRecord): Promise<void>;
  /** That selector's key; without a selector the newest key of the domain (the one to sign with). */
  getDkimKey(domain: string, selector?: string): Promise<DkimKeyRecord | null>;
  /** By domain, then selector. */
  listDkimKeys(q: { tenant?: string; domain?: string }): Promise<DkimKeyRecord[]>;
}

/** Greylisting (src/filters/reputation/greylist-filter.ts): one sighting of a triplet, decided atomically. */
export interface GreylistQuery {
  /** "" when the recipient has no tenant. */
  tenant: string;
  /** The client's network (e.g. 192.0.2.0/24), not its address: pools retry from a neighbour. */
  network: string;
  sender: string;
  recipient: string;
  now: Date;
  /** A new triplet passes once it comes back after delayS … */
  delayS: number;
  /** … and before retryWindowS (later, the wait starts over). */
  retryWindowS: number;
  /** A passed triplet is forgotten expiryS after it was last seen. */
  expiryS: number;
  /** A client network with this many passes is let through at once (0: never) … */
  autoAllowAfter: number;
  /** … until autoAllowExpiryS after its last pass. */
  autoAllowExpiryS: number;
}

/**
 * new: first sighting (or the wait started over) — tempfail. early: seen, not yet delayS old —
 * tempfail. passed: retried in time, let through now. known: passed before. client-allowed: the
 * client network passed often enough.
 */
export type GreylistState = "new" | "early" | "passed" | "known" | "client-allowed";

export interface GreylistAnswer {
  state: GreylistState;
  /** When the current wait began. */
  firstSeen: Date;
  /** Passes counted for the client network so far (this one included). */
  clientPasses: number;
}

/** Greylisting state, shared by every node of a cluster. */
export interface GreylistStore {
  greylist(q: GreylistQuery): Promise<GreylistAnswer>;
  /** Forget triplets last seen before `triplets` and client networks last seen before `clients`. */
  pruneGreylist(triplets: Date, clients: Date): Promise<number>;
}

export interface RateCount {
  key: string;
  /** This window's count, the amount just added included. */
  current: number;
  /** The window before (0 when none). */
  previous: number;
}

/**
 * Rate-limit counters in fixed windows, shared by every node (src/filters/reputation/ratelimit-filter.ts).
 * Soft state: a crash may lose recent counts (SQLite commits them without fsync; the PostgreSQL
 * table is UNLOGGED), never corrupt them.
 */
export interface RateCounterStore {
  /**
   * Add each amount (negative: give back) to its key's counter in the window of `windowS` seconds
   * that holds `now` (windows start at multiples of windowS since the epoch); one round trip.
   */
  countRates(
    hits: readonly { key: string; amount: number }[],
    windowS: number,
    now: Date,
  ): Promise<RateCount[]>;
  /** Drop windows that started before `before`. */
  pruneRates(before: Date): Promise<number>;
}

/** Where a lesson for the spam classifier came from. */
export type SpamLessonSource = "feedback" | "release" | "autolearn" | "cli";

export interface SpamLessonInput {
  /** The model it teaches: "" (shared by every tenant) or a tenant id (per-tenant model). */
  scope: string;
  tenant: string | null;
  label: "spam" | "ham";
  source: SpamLessonSource;
  /** Who judged (a login or address); null for autolearn. */
  actor: string | null;
  recipient: string | null;
  sender: string | null;
  /** SHA-256 of the message (one lesson per message, label and scope). */
  hash: string;
  /** Tokenizer version of `features`; lessons of another version are skipped. */
  tokenizer: number;
  /** The message's feature hashes (little-endian uint32 after a uint32 count of its own features). */
  features: Buffer;
  /** The classifier's verdict disagreed with this label when it was given (feedback only). */
  disagrees: boolean;
  createdAt: Date;
}

export interface SpamLesson extends SpamLessonInput {
  id: number;
}

export interface SpamLessonQuery {
  scope?: string;
  tenant?: string;
  actor?: string;
  recipient?: string;
  sender?: string;
  label?: "spam" | "ham";
  sources?: readonly SpamLessonSource[];
  hash?: string;
  since?: Date;
}

export interface SpamModelInput {
  scope: string;
  /** The model file's bytes (src/filters/spam/model.ts). */
  model: Buffer;
  /** The newest lesson id folded into it. */
  lessonsUpTo: number;
  author: string;
  note: string | null;
  /** Set when this revision republishes an earlier one. */
  rollbackOf: number | null;
}

export interface SpamModelRevision extends SpamModelInput {
  rev: number;
  createdAt: Date;
}

/** The spam classifier's lessons and the models compacted from them (src/filters/spam/learning.ts). */
export interface SpamLearningStore {
  /** Keep a lesson; null when the scope already has one for this message and label. */
  addSpamLesson(l: SpamLessonInput): Promise<SpamLesson | null>;
  /** Lessons of a scope with id > afterId, oldest first. */
  listSpamLessons(q: { scope: string; afterId: number; limit: number }): Promise<SpamLesson[]>;
  countSpamLessons(q: SpamLessonQuery): Promise<number>;
  /** Lesson counts by scope, label and source, with how many disagreed with the classifier. */
  spamLessonStats(): Promise<
    { scope: string; label: "spam" | "ham"; source: SpamLessonSource; count: number; disagreements: number }[]
  >;
  publishSpamModel(m: SpamModelInput): Promise<SpamModelRevision>;
  getSpamModel(rev: number): Promise<SpamModelRevision | null>;
  /** The newest revision of a scope, with its model bytes. */
  latestSpamModel(scope: string): Promise<SpamModelRevision | null>;
  /** Newest first, model bytes left out (empty buffers). */
  listSpamModels(q: { scope?: string; limit?: number }): Promise<SpamModelRevision[]>;
}

/**
 * Everything at once, for the callers that wire a node together. The DKIM methods are part of
 * the contract (contract.ts tests them) but optional here, so a Store without them still
 * compiles and key-store.ts fails with a clear error.
 */
export type Store = StoreLifecycle &
  UserStore &
  UserOverrideStore &
  QuarantineStore &
  HoldStore &
  ReleaseStore &
  JobStore &
  MessageLogStore &
  AccountStore &
  AuditStore &
  ConfigRevisionStore &
  GreylistStore &
  RateCounterStore &
  Partial<DkimKeyStore> &
  Partial<SpamLearningStore>;

// ---- cluster: configuration revisions, node heartbeats (src/cluster/) ----

export interface ConfigRevisionInput {
  role: string;
  /** The published YAML (cluster sections only: see src/cluster/revision.ts). */
  text: string;
  author: string;
  note: string | null;
  /** Set when this revision republishes an earlier one. */
  rollbackOf: number | null;
}

export interface ConfigRevision extends ConfigRevisionInput {
  rev: number;
  createdAt: Date;
}

export interface ShadowInput {
  role: string;
  text: string;
  author: string;
  note: string | null;
  /** Node names that evaluate it (empty: every node of the role). */
  nodes: string[];
}

export interface ShadowRun extends ShadowInput {
  id: number;
  state: "running" | "published" | "discarded";
  createdAt: Date;
}

export interface ShadowDiff {
  messageId: string;
  at: Date;
  sender: string;
  recipient: string;
  liveAction: string;
  shadowAction: string;
}

export interface ShadowReport {
  /** Messages evaluated per node. */
  evaluated: Record<string, number>;
  /** Recipients whose action would change, newest first, with the node that saw them. */
  diffs: (ShadowDiff & { node: string })[];
}

export interface NodeHeartbeat {
  name: string;
  role: string;
  version: string;
  startedAt: Date;
  seenAt: Date;
  /** The revision in force (null: the node's local file only). */
  appliedRev: number | null;
  /** ok; apply_failed: the last revision was refused (error says why), the applied one stays. */
  health: "ok" | "apply_failed";
  failedRev: number | null;
  error: string | null;
}

// ---- web console: accounts, sessions, audit log (src/web/) ----

/** Console roles; end users are not accounts: they log in with their directory credentials. */
export type ConsoleRole = "operator" | "tenant_admin";

export interface ConsoleAccount {
  login: string;
  role: ConsoleRole;
  /** The tenant a tenant admin manages (null for operators). */
  tenant: string | null;
  /** scrypt hash (src/policy/password.ts). */
  passwordHash: string;
  createdAt: Date;
}

export interface WebSession {
  /** sha256 of the cookie token. */
  id: string;
  /** The account login or the end user's address. */
  subject: string;
  role: ConsoleRole | "user";
  tenant: string | null;
  csrf: string;
  expiresAt: Date;
}

export interface AuditEntry {
  at: Date;
  actor: string;
  /** e.g. "user.update", "quarantine.release". */
  action: string;
  target: string;
  tenant: string | null;
  before: unknown;
  after: unknown;
}

// ---- sender authentication: DKIM keys (src/filters/auth/key-store.ts) ----

/**
 * A DKIM signing key. The store keeps the private key only as `sealedKey`, an opaque blob
 * encrypted by the caller (AES-256-GCM under the node's secret key): no backend sees a PEM.
 */
export interface DkimKeyRecord {
  /** Lower-case. */
  domain: string;
  selector: string;
  /** The tenant whose users may sign with it (null: any sender allowed to sign). */
  tenant: string | null;
  algorithm: "rsa-sha256" | "ed25519-sha256";
  /** The p= value published in DNS. */
  publicKey: string;
  sealedKey: Buffer;
  createdAt: Date;
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
