// The embedded store: SQLite through node:sqlite (built into Node 24, no native addon),
// WAL journal with synchronous=FULL so a committed write survives a power cut.
// Not for several nodes: a cluster uses the PostgreSQL store.
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { SQLITE_MIGRATIONS } from "./sqlite-migrations.ts";
import { prepareSqliteFiles } from "./sqlite-files.ts";
import {
  ListLimitError,
  type AuditEntry,
  type ConsoleAccount,
  type DkimKeyRecord,
  type WebSession,
  type HoldInput,
  type HoldItem,
  type HoldPatch,
  type ReleaseClaim,
  type ReleaseClaimInput,
  type ConfigRevision,
  type ConfigRevisionInput,
  type NodeHeartbeat,
  type ShadowDiff,
  type ShadowInput,
  type ShadowReport,
  type ShadowRun,
  type HoldState,
  type ListKind,
  type LogEntry,
  type LogQuery,
  type QuarantineInput,
  type QuarantineItem,
  type QuarantineState,
  type Store,
  type StoredUser,
} from "./types.ts";

type Row = Record<string, SQLInputValue>;

const HOLD_COLS =
  "id, tenant, created_at, release_at, state, reason, envelope, size, approver, approved_by, notice_sent_at";

export class SqliteStore implements Store {
  private readonly db: DatabaseSync;

  constructor(path: string) {
    if (path !== ":memory:") prepareSqliteFiles(path);
    this.db = new DatabaseSync(path);
    this.db.exec(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;",
    );
  }

  async migrate(): Promise<void> {
    this.db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    const row = this.db.prepare("SELECT MAX(version) AS v FROM schema_version").get() as { v: number | null };
    for (let v = (row.v ?? 0) + 1; v <= SQLITE_MIGRATIONS.length; v++) {
      this.tx(() => {
        this.db.exec(SQLITE_MIGRATIONS[v - 1]!);
        this.db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(v);
      });
    }
  }

  async close(): Promise<void> {
    this.flushLog();
    if (this.db.isOpen) this.db.close();
  }

  private tx<T>(fn: () => T): T {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const out = fn();
      this.db.exec("COMMIT");
      return out;
    } catch (err) {
      this.db.exec("ROLLBACK");
      throw err;
    }
  }

  // ---- users ----

  async getUser(address: string): Promise<StoredUser | null> {
    const a = address.toLowerCase();
    const row = this.db
      .prepare(
        "SELECT * FROM users WHERE address = ? UNION SELECT u.* FROM users u JOIN user_aliases x ON x.address = u.address WHERE x.alias = ?",
      )
      .get(a, a) as Row | undefined;
    return row ? this.userFromRow(row) : null;
  }

  private userFromRow(row: Row): StoredUser {
    const address = String(row.address);
    const aliases = this.db
      .prepare("SELECT alias FROM user_aliases WHERE address = ? ORDER BY alias")
      .all(address);
    const lists = this.db
      .prepare("SELECT kind, entry FROM user_lists WHERE address = ? ORDER BY kind, position")
      .all(address) as { kind: string; entry: string }[];
    return {
      id: String(row.id),
      tenant: String(row.tenant),
      address,
      aliases: aliases.map((r) => String(r.alias)),
      language: (row.language as "en" | "ja" | null) ?? null,
      spamFilter: row.spam_filter === null ? null : row.spam_filter === 1,
      thresholds: JSON.parse(String(row.thresholds)),
      whitelist: lists.filter((l) => l.kind === "whitelist").map((l) => l.entry),
      blacklist: lists.filter((l) => l.kind === "blacklist").map((l) => l.entry),
      sendAs: JSON.parse(String(row.send_as)),
      passwordHash: (row.password_hash as string | null) ?? null,
    };
  }

  async putUser(u: StoredUser): Promise<void> {
    const address = u.address.toLowerCase();
    this.tx(() => {
      this.db
        .prepare(
          `INSERT INTO users (address, id, tenant, language, spam_filter, thresholds, send_as, password_hash)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(address) DO UPDATE SET id=excluded.id, tenant=excluded.tenant, language=excluded.language,
             spam_filter=excluded.spam_filter, thresholds=excluded.thresholds, send_as=excluded.send_as,
             password_hash=excluded.password_hash`,
        )
        .run(
          address,
          u.id,
          u.tenant,
          u.language,
          u.spamFilter === null ? null : u.spamFilter ? 1 : 0,
          JSON.stringify(u.thresholds),
          JSON.stringify(u.sendAs),
          u.passwordHash,
        );
      this.db.prepare("DELETE FROM user_aliases WHERE address = ?").run(address);
      for (const a of u.aliases) {
        this.db
          .prepare("INSERT INTO user_aliases (alias, address) VALUES (?, ?)")
          .run(a.toLowerCase(), address);
      }
      this.writeList(address, "whitelist", u.whitelist);
      this.writeList(address, "blacklist", u.blacklist);
    });
  }

  private writeList(address: string, kind: ListKind, entries: string[]): void {
    this.db.prepare("DELETE FROM user_lists WHERE address = ? AND kind = ?").run(address, kind);
    const ins = this.db.prepare(
      "INSERT INTO user_lists (address, kind, position, entry) VALUES (?, ?, ?, ?)",
    );
    entries.forEach((e, i) => ins.run(address, kind, i, e.toLowerCase()));
  }

  async deleteUser(address: string): Promise<boolean> {
    return this.db.prepare("DELETE FROM users WHERE address = ?").run(address.toLowerCase()).changes > 0;
  }

  async listUsers(tenant: string): Promise<StoredUser[]> {
    const rows = this.db
      .prepare("SELECT * FROM users WHERE tenant = ? ORDER BY address")
      .all(tenant) as Row[];
    return rows.map((r) => this.userFromRow(r));
  }

  async setList(address: string, kind: ListKind, entries: string[], maxEntries: number): Promise<void> {
    if (entries.length > maxEntries) throw new ListLimitError(kind, maxEntries, entries.length);
    const a = address.toLowerCase();
    this.tx(() => {
      const exists = this.db.prepare("SELECT 1 AS x FROM users WHERE address = ?").get(a);
      if (!exists) throw new Error(`no such user: ${a}`);
      this.writeList(a, kind, entries);
    });
  }

  // ---- quarantine ----

  async putQuarantine(q: QuarantineInput): Promise<void> {
    const now = Date.now();
    this.tx(() => {
      this.db
        .prepare(
          "INSERT INTO quarantine (id, tenant, created_at, envelope, score, symbols, subject, size, message) VALUES (?,?,?,?,?,?,?,?,?)",
        )
        .run(
          q.id,
          q.tenant,
          now,
          JSON.stringify(q.envelope),
          q.score,
          JSON.stringify(q.symbols),
          q.subject,
          q.message.length,
          q.message,
        );
      const ins = this.db.prepare(
        "INSERT INTO quarantine_rcpt (id, address, state, reason, updated_at, score, symbols) VALUES (?, ?, 'quarantined', ?, ?, ?, ?)",
      );
      for (const r of q.recipients)
        ins.run(
          q.id,
          r.address.toLowerCase(),
          r.reason,
          now,
          r.score ?? q.score,
          JSON.stringify(r.symbols ?? q.symbols),
        );
    });
  }

  private quarantineFromRow(row: Row): QuarantineItem {
    const rcpts = this.db
      .prepare(
        "SELECT address, state, reason, updated_at, score, symbols FROM quarantine_rcpt WHERE id = ? ORDER BY address",
      )
      .all(String(row.id)) as Row[];
    return {
      id: String(row.id),
      tenant: (row.tenant as string | null) ?? null,
      createdAt: new Date(Number(row.created_at)),
      envelope: JSON.parse(String(row.envelope)),
      score: Number(row.score),
      symbols: JSON.parse(String(row.symbols)),
      subject: (row.subject as string | null) ?? null,
      size: Number(row.size),
      recipients: rcpts.map((r) => ({
        address: String(r.address),
        state: r.state as QuarantineState,
        reason: String(r.reason),
        updatedAt: new Date(Number(r.updated_at)),
        score: r.score === null ? Number(row.score) : Number(r.score),
        symbols: JSON.parse(String(r.symbols ?? row.symbols)),
      })),
    };
  }

  async getQuarantine(id: string): Promise<QuarantineItem | null> {
    const row = this.db.prepare("SELECT * FROM quarantine WHERE id = ?").get(id) as Row | undefined;
    return row ? this.quarantineFromRow(row) : null;
  }

  async listQuarantine(q: {
    tenant?: string;
    recipient?: string;
    state?: QuarantineState;
    since?: Date;
    before?: Date;
    limit?: number;
  }): Promise<QuarantineItem[]> {
    const where: string[] = [];
    const args: SQLInputValue[] = [];
    if (q.tenant !== undefined) {
      where.push("q.tenant = ?");
      args.push(q.tenant);
    }
    if (q.since !== undefined) {
      where.push("q.created_at >= ?");
      args.push(q.since.getTime());
    }
    if (q.before !== undefined) {
      where.push("q.created_at < ?");
      args.push(q.before.getTime());
    }
    if (q.recipient !== undefined || q.state !== undefined) {
      const sub: string[] = [];
      if (q.recipient !== undefined) {
        sub.push("r.address = ?");
        args.push(q.recipient.toLowerCase());
      }
      if (q.state !== undefined) {
        sub.push("r.state = ?");
        args.push(q.state);
      }
      where.push(`EXISTS (SELECT 1 FROM quarantine_rcpt r WHERE r.id = q.id AND ${sub.join(" AND ")})`);
    }
    args.push(q.limit ?? 100);
    const rows = this.db
      .prepare(
        `SELECT q.* FROM quarantine q ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY q.created_at DESC, q.id LIMIT ?`,
      )
      .all(...args) as Row[];
    return rows.map((r) => this.quarantineFromRow(r));
  }

  async quarantineMessage(id: string): Promise<Buffer | null> {
    const row = this.db.prepare("SELECT message FROM quarantine WHERE id = ?").get(id) as
      { message: Uint8Array } | undefined;
    return row ? Buffer.from(row.message) : null;
  }

  async setQuarantineState(
    id: string,
    recipient: string,
    from: QuarantineState,
    to: QuarantineState,
  ): Promise<boolean> {
    const r = this.db
      .prepare(
        "UPDATE quarantine_rcpt SET state = ?, updated_at = ? WHERE id = ? AND address = ? AND state = ?",
      )
      .run(to, Date.now(), id, recipient.toLowerCase(), from);
    return r.changes > 0;
  }

  async deleteQuarantine(id: string): Promise<void> {
    this.db.prepare("DELETE FROM quarantine WHERE id = ?").run(id);
  }

  // ---- hold queue ----

  async deleteHold(id: string): Promise<void> {
    this.db.prepare("DELETE FROM hold WHERE id = ?").run(id);
  }

  async putHold(h: HoldInput): Promise<void> {
    this.db
      .prepare(
        "INSERT INTO hold (id, tenant, created_at, release_at, state, reason, envelope, size, message) VALUES (?,?,?,?,'held',?,?,?,?)",
      )
      .run(
        h.id,
        h.tenant,
        Date.now(),
        h.releaseAt.getTime(),
        h.reason,
        JSON.stringify(h.envelope),
        h.message.length,
        h.message,
      );
  }

  private holdFromRow(row: Row): HoldItem {
    return {
      id: String(row.id),
      tenant: (row.tenant as string | null) ?? null,
      createdAt: new Date(Number(row.created_at)),
      releaseAt: new Date(Number(row.release_at)),
      state: row.state as HoldState,
      reason: String(row.reason),
      envelope: JSON.parse(String(row.envelope)),
      size: Number(row.size),
      approver: (row.approver as string | null) ?? null,
      approvedBy: (row.approved_by as string | null) ?? null,
      noticeSentAt: row.notice_sent_at === null ? null : new Date(Number(row.notice_sent_at)),
    };
  }

  async getHold(id: string): Promise<HoldItem | null> {
    const row = this.db.prepare(`SELECT ${HOLD_COLS} FROM hold WHERE id = ?`).get(id) as Row | undefined;
    return row ? this.holdFromRow(row) : null;
  }

  async listHolds(q: { tenant?: string; state?: HoldState; limit?: number }): Promise<HoldItem[]> {
    const where: string[] = [];
    const args: SQLInputValue[] = [];
    if (q.tenant !== undefined) {
      where.push("tenant = ?");
      args.push(q.tenant);
    }
    if (q.state !== undefined) {
      where.push("state = ?");
      args.push(q.state);
    }
    args.push(q.limit ?? 100);
    const rows = this.db
      .prepare(
        `SELECT ${HOLD_COLS} FROM hold ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY release_at, id LIMIT ?`,
      )
      .all(...args) as Row[];
    return rows.map((r) => this.holdFromRow(r));
  }

  async holdMessage(id: string): Promise<Buffer | null> {
    const row = this.db.prepare("SELECT message FROM hold WHERE id = ?").get(id) as
      { message: Uint8Array } | undefined;
    return row ? Buffer.from(row.message) : null;
  }

  async setHoldState(id: string, from: HoldState, to: HoldState): Promise<boolean> {
    return (
      this.db.prepare("UPDATE hold SET state = ? WHERE id = ? AND state = ?").run(to, id, from).changes > 0
    );
  }

  async updateHold(id: string, patch: HoldPatch): Promise<boolean> {
    const sets: string[] = [];
    const args: SQLInputValue[] = [];
    if (patch.releaseAt !== undefined) {
      sets.push("release_at = ?");
      args.push(patch.releaseAt.getTime());
    }
    if (patch.approver !== undefined) {
      sets.push("approver = ?");
      args.push(patch.approver);
    }
    if (patch.approvedBy !== undefined) {
      sets.push("approved_by = ?");
      args.push(patch.approvedBy);
    }
    if (patch.noticeSentAt !== undefined) {
      sets.push("notice_sent_at = ?");
      args.push(patch.noticeSentAt.getTime());
    }
    if (!sets.length) return (await this.getHold(id))?.state === "held";
    const r = this.db
      .prepare(`UPDATE hold SET ${sets.join(", ")} WHERE id = ? AND state = 'held'`)
      .run(...args, id);
    return r.changes > 0;
  }

  // ---- release claims ----

  async claimRelease(c: ReleaseClaimInput): Promise<ReleaseClaim> {
    return this.tx(() => {
      const existing = this.claimRow(c.key);
      if (existing) return existing;
      const now = Date.now();
      let recipients: string[] = [];
      if (c.kind === "quarantine") {
        const rows = this.db
          .prepare(
            "SELECT address FROM quarantine_rcpt WHERE id = ? AND state = 'quarantined' AND release_key IS NULL ORDER BY address",
          )
          .all(c.itemId) as { address: string }[];
        const wanted = c.recipients === "all" ? null : new Set(c.recipients.map((r) => r.toLowerCase()));
        recipients = rows.map((r) => r.address).filter((a) => !wanted || wanted.has(a));
        const mark = this.db.prepare(
          "UPDATE quarantine_rcpt SET release_key = ? WHERE id = ? AND address = ?",
        );
        for (const a of recipients) mark.run(c.key, c.itemId, a);
      } else {
        const row = this.db
          .prepare("SELECT envelope FROM hold WHERE id = ? AND state = 'held' AND release_key IS NULL")
          .get(c.itemId) as { envelope: string } | undefined;
        if (row) {
          this.db.prepare("UPDATE hold SET release_key = ? WHERE id = ?").run(c.key, c.itemId);
          recipients = (JSON.parse(row.envelope) as { recipients: { address: string }[] }).recipients.map(
            (r) => r.address,
          );
        }
      }
      this.db
        .prepare(
          "INSERT INTO release_claim (key, kind, item_id, recipients, actor, state, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
        )
        .run(
          c.key,
          c.kind,
          c.itemId,
          JSON.stringify(recipients),
          c.actor,
          recipients.length ? "claimed" : "done",
          now,
          now,
        );
      return this.claimRow(c.key)!;
    });
  }

  private claimRow(key: string): ReleaseClaim | null {
    const row = this.db.prepare("SELECT * FROM release_claim WHERE key = ?").get(key) as Row | undefined;
    return row ? claimFromRow(row) : null;
  }

  async recordReleaseDelivery(
    key: string,
    accepted: string[],
    failed: { address: string; reason: string }[],
  ): Promise<void> {
    this.db
      .prepare(
        "UPDATE release_claim SET state = 'delivered', accepted = ?, failed = ?, updated_at = ? WHERE key = ? AND state = 'claimed'",
      )
      .run(JSON.stringify(accepted), JSON.stringify(failed), Date.now(), key);
  }

  async finishRelease(key: string): Promise<void> {
    this.tx(() => {
      const c = this.claimRow(key);
      if (!c || c.state === "done") return;
      const accepted = c.state === "delivered" ? c.accepted.map((a) => a.toLowerCase()) : [];
      const now = Date.now();
      if (c.kind === "quarantine") {
        const rel = this.db.prepare(
          "UPDATE quarantine_rcpt SET state = 'released', updated_at = ? WHERE id = ? AND address = ? AND release_key = ? AND state = 'quarantined'",
        );
        for (const a of accepted) rel.run(now, c.itemId, a, key);
        this.db
          .prepare(
            "UPDATE quarantine_rcpt SET release_key = NULL WHERE id = ? AND release_key = ? AND state = 'quarantined'",
          )
          .run(c.itemId, key);
      } else if (accepted.length) {
        this.db
          .prepare("UPDATE hold SET state = 'released' WHERE id = ? AND release_key = ? AND state = 'held'")
          .run(c.itemId, key);
      } else {
        this.db
          .prepare("UPDATE hold SET release_key = NULL WHERE id = ? AND release_key = ?")
          .run(c.itemId, key);
      }
      this.db.prepare("UPDATE release_claim SET state = 'done', updated_at = ? WHERE key = ?").run(now, key);
    });
  }

  async getRelease(key: string): Promise<ReleaseClaim | null> {
    return this.claimRow(key);
  }

  async openReleases(): Promise<ReleaseClaim[]> {
    const rows = this.db
      .prepare("SELECT * FROM release_claim WHERE state != 'done' ORDER BY created_at, key")
      .all() as Row[];
    return rows.map(claimFromRow);
  }

  // ---- single-use tokens and job cursors ----

  async consumeToken(key: string, expiresAt: Date): Promise<boolean> {
    return this.tx(() => {
      this.db.prepare("DELETE FROM once_token WHERE expires_at < ?").run(Date.now());
      return (
        this.db
          .prepare("INSERT OR IGNORE INTO once_token (key, expires_at) VALUES (?, ?)")
          .run(key, expiresAt.getTime()).changes > 0
      );
    });
  }

  async getCursor(name: string): Promise<Date | null> {
    const row = this.db.prepare("SELECT at FROM job_cursor WHERE name = ?").get(name) as
      { at: number } | undefined;
    return row ? new Date(Number(row.at)) : null;
  }

  async setCursor(name: string, at: Date): Promise<void> {
    this.db
      .prepare(
        "INSERT INTO job_cursor (name, at) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET at = excluded.at",
      )
      .run(name, at.getTime());
  }

  // ---- message log ----

  /**
   * Message-log entries are group-committed: calls within a few milliseconds share one
   * transaction (one fsync), since node:sqlite blocks the event loop while it syncs. Each
   * promise still resolves only once its entry is committed.
   */
  logMessage(e: LogEntry): Promise<void> {
    return new Promise((resolve, reject) => {
      this.logQueue.push({ e, resolve, reject });
      if (this.logQueue.length >= 256) this.flushLog();
      else this.logTimer ??= setTimeout(() => this.flushLog(), 5);
    });
  }

  private logQueue: { e: LogEntry; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private logTimer: NodeJS.Timeout | null = null;

  private flushLog(): void {
    if (this.logTimer) clearTimeout(this.logTimer);
    this.logTimer = null;
    const batch = this.logQueue;
    this.logQueue = [];
    if (!batch.length) return;
    try {
      this.tx(() => {
        const entry = this.db.prepare(
          "INSERT INTO message_log (id, at, tenant, ingress, client_address, sender, subject, size, recipients) VALUES (?,?,?,?,?,?,?,?,?)",
        );
        const ins = this.db.prepare("INSERT OR IGNORE INTO message_log_rcpt (id, address) VALUES (?, ?)");
        for (const { e } of batch) {
          entry.run(
            e.id,
            e.at.getTime(),
            e.tenant,
            e.ingress,
            e.clientAddress,
            e.sender.toLowerCase(),
            e.subject,
            e.size,
            JSON.stringify(e.recipients),
          );
          for (const r of e.recipients) ins.run(e.id, r.address.toLowerCase());
        }
      });
      for (const b of batch) b.resolve();
    } catch (err) {
      // One bad entry (a duplicate id) must not sink the others: retry them one by one.
      if (batch.length === 1) return batch[0]!.reject(err);
      for (const b of batch) {
        this.logQueue = [b];
        this.flushLog();
      }
    }
  }

  private logFromRow(row: Row): LogEntry {
    return {
      id: String(row.id),
      at: new Date(Number(row.at)),
      tenant: (row.tenant as string | null) ?? null,
      ingress: String(row.ingress),
      clientAddress: String(row.client_address),
      sender: String(row.sender),
      subject: (row.subject as string | null) ?? null,
      size: Number(row.size),
      recipients: JSON.parse(String(row.recipients)),
    };
  }

  async getLog(id: string): Promise<LogEntry | null> {
    const row = this.db.prepare("SELECT * FROM message_log WHERE id = ?").get(id) as Row | undefined;
    return row ? this.logFromRow(row) : null;
  }

  async searchLog(q: LogQuery): Promise<LogEntry[]> {
    const where: string[] = [];
    const args: SQLInputValue[] = [];
    if (q.ref !== undefined) {
      where.push("(m.id = ? OR m.id LIKE ? ESCAPE '\\')");
      args.push(q.ref, `${q.ref.replace(/[\\%_]/g, (c) => `\\${c}`)}-T%`);
    }
    if (q.tenant !== undefined) {
      where.push("m.tenant = ?");
      args.push(q.tenant);
    }
    if (q.sender !== undefined) {
      where.push("m.sender = ?");
      args.push(q.sender.toLowerCase());
    }
    if (q.since !== undefined) {
      where.push("m.at >= ?");
      args.push(q.since.getTime());
    }
    if (q.recipient !== undefined) {
      where.push("EXISTS (SELECT 1 FROM message_log_rcpt r WHERE r.id = m.id AND r.address = ?)");
      args.push(q.recipient.toLowerCase());
    }
    args.push(q.limit ?? 100);
    const rows = this.db
      .prepare(
        `SELECT m.* FROM message_log m ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY m.at DESC, m.id LIMIT ?`,
      )
      .all(...args) as Row[];
    return rows.map((r) => this.logFromRow(r));
  }

  // ---- web console: accounts, sessions, audit log (src/web/) ----

  async getAccount(login: string): Promise<ConsoleAccount | null> {
    const row = this.db.prepare("SELECT * FROM console_account WHERE login = ?").get(login) as
      Row | undefined;
    return row ? accountFromRow(row) : null;
  }

  async putAccount(a: ConsoleAccount): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO console_account (login, role, tenant, password_hash, created_at) VALUES (?,?,?,?,?)
         ON CONFLICT(login) DO UPDATE SET role=excluded.role, tenant=excluded.tenant, password_hash=excluded.password_hash`,
      )
      .run(a.login, a.role, a.tenant, a.passwordHash, a.createdAt.getTime());
  }

  async listAccounts(): Promise<ConsoleAccount[]> {
    return (this.db.prepare("SELECT * FROM console_account ORDER BY login").all() as Row[]).map(
      accountFromRow,
    );
  }

  async putSession(s: WebSession): Promise<void> {
    this.db.prepare("DELETE FROM web_session WHERE expires_at < ?").run(Date.now());
    this.db
      .prepare("INSERT INTO web_session (id, subject, role, tenant, csrf, expires_at) VALUES (?,?,?,?,?,?)")
      .run(s.id, s.subject, s.role, s.tenant, s.csrf, s.expiresAt.getTime());
  }

  async getSession(id: string): Promise<WebSession | null> {
    const row = this.db
      .prepare("SELECT * FROM web_session WHERE id = ? AND expires_at >= ?")
      .get(id, Date.now()) as Row | undefined;
    if (!row) return null;
    return {
      id: String(row.id),
      subject: String(row.subject),
      role: row.role as WebSession["role"],
      tenant: (row.tenant as string | null) ?? null,
      csrf: String(row.csrf),
      expiresAt: new Date(Number(row.expires_at)),
    };
  }

  async deleteSession(id: string): Promise<void> {
    this.db.prepare("DELETE FROM web_session WHERE id = ?").run(id);
  }

  async appendAudit(e: AuditEntry): Promise<void> {
    this.db
      .prepare(
        "INSERT INTO audit_log (at, actor, action, target, tenant, before, after) VALUES (?,?,?,?,?,?,?)",
      )
      .run(
        e.at.getTime(),
        e.actor,
        e.action,
        e.target,
        e.tenant,
        JSON.stringify(e.before ?? null),
        JSON.stringify(e.after ?? null),
      );
  }

  async listAudit(q: { tenant?: string; limit?: number }): Promise<AuditEntry[]> {
    const rows = (
      q.tenant !== undefined
        ? this.db
            .prepare("SELECT * FROM audit_log WHERE tenant = ? ORDER BY seq DESC LIMIT ?")
            .all(q.tenant, q.limit ?? 100)
        : this.db.prepare("SELECT * FROM audit_log ORDER BY seq DESC LIMIT ?").all(q.limit ?? 100)
    ) as Row[];
    return rows.map((r) => ({
      at: new Date(Number(r.at)),
      actor: String(r.actor),
      action: String(r.action),
      target: String(r.target),
      tenant: (r.tenant as string | null) ?? null,
      before: JSON.parse(String(r.before ?? "null")),
      after: JSON.parse(String(r.after ?? "null")),
    }));
  }

  // ---- cluster: configuration revisions, node heartbeats (src/cluster/) ----

  async publishConfig(r: ConfigRevisionInput): Promise<ConfigRevision> {
    const res = this.db
      .prepare(
        "INSERT INTO config_revision (role, text, author, note, rollback_of, created_at) VALUES (?,?,?,?,?,?)",
      )
      .run(r.role, r.text, r.author, r.note, r.rollbackOf, Date.now());
    return (await this.getConfigRevision(Number(res.lastInsertRowid)))!;
  }

  async getConfigRevision(rev: number): Promise<ConfigRevision | null> {
    const row = this.db.prepare("SELECT * FROM config_revision WHERE rev = ?").get(rev) as Row | undefined;
    return row ? revisionFromRow(row) : null;
  }

  async latestConfigRevision(role: string): Promise<ConfigRevision | null> {
    const row = this.db
      .prepare("SELECT * FROM config_revision WHERE role = ? ORDER BY rev DESC LIMIT 1")
      .get(role) as Row | undefined;
    return row ? revisionFromRow(row) : null;
  }

  async listConfigRevisions(q: { role?: string; limit?: number }): Promise<ConfigRevision[]> {
    const rows = (
      q.role !== undefined
        ? this.db
            .prepare("SELECT * FROM config_revision WHERE role = ? ORDER BY rev DESC LIMIT ?")
            .all(q.role, q.limit ?? 100)
        : this.db.prepare("SELECT * FROM config_revision ORDER BY rev DESC LIMIT ?").all(q.limit ?? 100)
    ) as Row[];
    return rows.map(revisionFromRow);
  }

  async putHeartbeat(h: NodeHeartbeat): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO node_heartbeat (name, role, version, started_at, seen_at, applied_rev, health, failed_rev, error)
         VALUES (?,?,?,?,?,?,?,?,?)
         ON CONFLICT(name) DO UPDATE SET role=excluded.role, version=excluded.version, started_at=excluded.started_at,
           seen_at=excluded.seen_at, applied_rev=excluded.applied_rev, health=excluded.health,
           failed_rev=excluded.failed_rev, error=excluded.error`,
      )
      .run(
        h.name,
        h.role,
        h.version,
        h.startedAt.getTime(),
        h.seenAt.getTime(),
        h.appliedRev,
        h.health,
        h.failedRev,
        h.error,
      );
  }

  async listHeartbeats(): Promise<NodeHeartbeat[]> {
    const rows = this.db.prepare("SELECT * FROM node_heartbeat ORDER BY name").all() as Row[];
    return rows.map((r) => ({
      name: String(r.name),
      role: String(r.role),
      version: String(r.version),
      startedAt: new Date(Number(r.started_at)),
      seenAt: new Date(Number(r.seen_at)),
      appliedRev: r.applied_rev === null ? null : Number(r.applied_rev),
      health: r.health as NodeHeartbeat["health"],
      failedRev: r.failed_rev === null ? null : Number(r.failed_rev),
      error: (r.error as string | null) ?? null,
    }));
  }
  async startShadow(x: ShadowInput): Promise<ShadowRun> {
    const r = this.db
      .prepare(
        "INSERT INTO config_shadow (role, text, author, note, nodes, state, created_at) VALUES (?,?,?,?,?,'running',?)",
      )
      .run(x.role, x.text, x.author, x.note, JSON.stringify(x.nodes), Date.now());
    return (await this.getShadow(Number(r.lastInsertRowid)))!;
  }

  async getShadow(id: number): Promise<ShadowRun | null> {
    const row = this.db.prepare("SELECT * FROM config_shadow WHERE id = ?").get(id) as Row | undefined;
    return row ? shadowFromRow(row) : null;
  }

  async listShadows(q: { role?: string; state?: ShadowRun["state"] }): Promise<ShadowRun[]> {
    const rows = this.db
      .prepare(
        "SELECT * FROM config_shadow WHERE (? IS NULL OR role = ?) AND (? IS NULL OR state = ?) ORDER BY id DESC",
      )
      .all(q.role ?? null, q.role ?? null, q.state ?? null, q.state ?? null) as Row[];
    return rows.map(shadowFromRow);
  }

  async endShadow(id: number, state: "published" | "discarded"): Promise<boolean> {
    return (
      this.db.prepare("UPDATE config_shadow SET state = ? WHERE id = ? AND state = 'running'").run(state, id)
        .changes > 0
    );
  }

  async recordShadow(id: number, node: string, evaluated: number, diffs: ShadowDiff[]): Promise<void> {
    this.tx(() => {
      this.db
        .prepare(
          `INSERT INTO shadow_count (shadow_id, node, evaluated) VALUES (?, ?, ?)
           ON CONFLICT(shadow_id, node) DO UPDATE SET evaluated = evaluated + excluded.evaluated`,
        )
        .run(id, node, evaluated);
      const ins = this.db.prepare(
        "INSERT INTO shadow_diff (shadow_id, node, message_id, at, sender, recipient, live_action, shadow_action) VALUES (?,?,?,?,?,?,?,?)",
      );
      for (const d of diffs) {
        ins.run(id, node, d.messageId, d.at.getTime(), d.sender, d.recipient, d.liveAction, d.shadowAction);
      }
    });
  }

  async shadowReport(id: number, limit = 1000): Promise<ShadowReport> {
    const counts = this.db
      .prepare("SELECT node, evaluated FROM shadow_count WHERE shadow_id = ?")
      .all(id) as Row[];
    const diffs = this.db
      .prepare("SELECT * FROM shadow_diff WHERE shadow_id = ? ORDER BY seq DESC LIMIT ?")
      .all(id, limit) as Row[];
    return {
      evaluated: Object.fromEntries(counts.map((c) => [String(c.node), Number(c.evaluated)])),
      diffs: diffs.map((d) => ({
        node: String(d.node),
        messageId: String(d.message_id),
        at: new Date(Number(d.at)),
        sender: String(d.sender),
        recipient: String(d.recipient),
        liveAction: String(d.live_action),
        shadowAction: String(d.shadow_action),
      })),
    };
  }

  // ---- sender authentication: DKIM keys (src/filters/auth/key-store.ts) ----

  async putDkimKey(k: DkimKeyRecord): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO dkim_key (domain, selector, tenant, algorithm, public_key, sealed_key, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (domain, selector) DO UPDATE SET tenant = excluded.tenant,
           algorithm = excluded.algorithm, public_key = excluded.public_key,
           sealed_key = excluded.sealed_key, created_at = excluded.created_at`,
      )
      .run(
        k.domain.toLowerCase(),
        k.selector,
        k.tenant,
        k.algorithm,
        k.publicKey,
        k.sealedKey,
        k.createdAt.getTime(),
      );
  }

  async getDkimKey(domain: string, selector?: string): Promise<DkimKeyRecord | null> {
    const d = domain.toLowerCase();
    const row = (
      selector === undefined
        ? this.db
            .prepare(
              "SELECT * FROM dkim_key WHERE domain = ? ORDER BY created_at DESC, selector DESC LIMIT 1",
            )
            .get(d)
        : this.db.prepare("SELECT * FROM dkim_key WHERE domain = ? AND selector = ?").get(d, selector)
    ) as Row | undefined;
    return row ? dkimKeyFromRow(row) : null;
  }

  async listDkimKeys(q: { tenant?: string; domain?: string }): Promise<DkimKeyRecord[]> {
    const where: string[] = [];
    const args: SQLInputValue[] = [];
    if (q.tenant !== undefined) {
      where.push("tenant = ?");
      args.push(q.tenant);
    }
    if (q.domain !== undefined) {
      where.push("domain = ?");
      args.push(q.domain.toLowerCase());
    }
    const sql = `SELECT * FROM dkim_key${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY domain, selector`;
    return (this.db.prepare(sql).all(...args) as Row[]).map(dkimKeyFromRow);
  }
}

function dkimKeyFromRow(row: Row): DkimKeyRecord {
  return {
    domain: String(row.domain),
    selector: String(row.selector),
    tenant: (row.tenant as string | null) ?? null,
    algorithm: row.algorithm as DkimKeyRecord["algorithm"],
    publicKey: String(row.public_key),
    sealedKey: Buffer.from(row.sealed_key as Uint8Array),
    createdAt: new Date(Number(row.created_at)),
  };
}

function shadowFromRow(row: Row): ShadowRun {
  return {
    id: Number(row.id),
    role: String(row.role),
    text: String(row.text),
    author: String(row.author),
    note: (row.note as string | null) ?? null,
    nodes: JSON.parse(String(row.nodes)),
    state: row.state as ShadowRun["state"],
    createdAt: new Date(Number(row.created_at)),
  };
}

function revisionFromRow(row: Row): ConfigRevision {
  return {
    rev: Number(row.rev),
    role: String(row.role),
    text: String(row.text),
    author: String(row.author),
    note: (row.note as string | null) ?? null,
    rollbackOf: row.rollback_of === null ? null : Number(row.rollback_of),
    createdAt: new Date(Number(row.created_at)),
  };
}

function claimFromRow(row: Row): ReleaseClaim {
  return {
    key: String(row.key),
    kind: row.kind as ReleaseClaim["kind"],
    itemId: String(row.item_id),
    recipients: JSON.parse(String(row.recipients)),
    actor: String(row.actor),
    state: row.state as ReleaseClaim["state"],
    accepted: JSON.parse(String(row.accepted)),
    failed: JSON.parse(String(row.failed)),
    createdAt: new Date(Number(row.created_at)),
  };
}

function accountFromRow(row: Row): ConsoleAccount {
  return {
    login: String(row.login),
    role: row.role as ConsoleAccount["role"],
    tenant: (row.tenant as string | null) ?? null,
    passwordHash: String(row.password_hash),
    createdAt: new Date(Number(row.created_at)),
  };
}
