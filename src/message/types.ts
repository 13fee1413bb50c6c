// The small types every part speaks: a filter's symbol, an SMTP reply, a header edit, a
// notification to send, and a directory user. Plain data on the lowest floor, so message/,
// pipeline/, policy/, delivery/ and the front ends share them without importing each other.

export interface SymbolHit {
  name: string;
  score: number;
  detail?: string;
}

export interface SmtpReply {
  code: number;
  enhanced: string;
  text: string;
}

/**
 * A header change for one recipient's copy. add: append (prepend for trace headers such as
 * Received and Authentication-Results when `top` is set); delete: every field of that name,
 * or only the `index`-th (1-based among fields of that name); set: replace the first field's
 * value in place (added when missing).
 */
export interface HeaderEdit {
  op: "add" | "delete" | "set";
  name: string;
  value?: string;
  top?: boolean;
  index?: number;
}

/** A rendered notification (RFC 5322 bytes) to send from the null sender once the message is committed. */
export interface Notification {
  to: string;
  message: Buffer;
}

export interface Thresholds {
  tag: number | null;
  quarantine: number | null;
  reject: number | null;
}

export interface User {
  id: string;
  tenant: string;
  address: string;
  aliases: string[];
  language: "en" | "ja" | null;
  /** null: the tenant's default applies. */
  spamFilter: boolean | null;
  thresholds: Partial<Thresholds>;
  whitelist: string[];
  blacklist: string[];
  /** Addresses this user may send as (besides address and aliases). */
  sendAs: string[];
  /** Quarantine preference: false = spam over the quarantine threshold is only tagged; null/absent = policy. */
  quarantine?: boolean | null;
  /** This user's own sending limits when authenticated (absent: the tenant's rate limits). */
  rateLimits?: { messagesPerHour?: number; recipientsPerHour?: number };
}
