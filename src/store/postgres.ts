// The cluster store: PostgreSQL through `pg` with a connection pool. Several nodes share it;
// exclusive work (release claims) takes row locks with FOR UPDATE SKIP LOCKED so one node wins.
// Not a cache: every call goes to the database, and fails fast (StoreError) while it is away.
import pg from "pg";
import { POSTGRES_MIGRATIONS } from "./postgres-migrations.ts";
import {
  ListLimitError,
  StoreError,
  type AuditEntry,
  type ConfigRevision,
  type ConfigRevisionInput,
  type ConsoleAccount,
  type DkimKeyRecord,
  type HoldInput,
  type HoldItem,
  type HoldPatch,
  type HoldState,
  type ListKind,
  type LogEntry,
  type LogQuery,
  type NodeHeartbeat,
  type ShadowDiff,
  type ShadowInput,
  type ShadowReport,
  type ShadowRun,
  type QuarantineInput,
  type QuarantineItem,
  type QuarantineState,
  type ReleaseClaim,
  type ReleaseClaimInput,
  type Store,
  type StoredUser,
  type WebSession,
} from "./types.ts";

type Row = Record<string, unknown>;
type Q = Pick<pg.PoolClient, "query">;

/** NOTIFY channel of new configuration revisions; payload {"role","rev"}. */
export const CONFIG_CHANNEL = "sluice_config";
const MIGRATION_LOCK = 0x511ce;

const HOLD_COLS =
  "id, tenant, created_at, release_at, state, reason, envelope, size, approver, approved_by, notice_sent_at";

export interface PostgresOptions {
  /** Pool size (default 10). */
  max?: number;
  /** Give up connecting after this long (default 3000 ms), so an outage fails fast. */
  connectTimeoutMs?: number;
  /** Give up on a query after this long (default 10 s): a hung server becomes an error, not a hang. */
  queryTimeoutMs?: number;
}

export class PostgresStore implements Store {
  private readonly pool: pg.Pool;
  private readonly url: string;
  private readonly connectTimeoutMs: number;
  private closed = false;

  constructor(url: string, opts: PostgresOptions = {}) {
    this.url = url;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 3000;
    this.pool = new pg.Pool({
      connectionString: url,
      max: opts.max ?? 10,
      connectionTimeoutMillis: this.connectTimeoutMs,
      query_timeout: opts.queryTimeoutMs ?? 10_000,
      idleTimeoutMillis: 30_000,
    });
    // An idle client whose server went away emits here; without a listener the process dies.
    // The pool drops that client and opens a fresh one on the next query.
    this.pool.on("error", () => undefined);
  }

  private async q(sql: string, args: unknown[] = [], c: Q = this.pool): Promise<Row[]> {
    try {
      return (await c.query(sql, args)).rows as Row[];
    } catch (err) {
      throw wrap(err);
    }
  }

  private async tx<T>(fn: (c: Q) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw wrap(err);
    }
    let broken = false;
    try {
      await client.query("BEGIN");
      const out = await fn(client);
      await client.query("COMMIT");
      return out;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {
        broken = true;
      });
      throw wrap(err);
    } finally {
      client.release(broken);
    }
  }

  async migrate(): Promise<void> {
    await this.tx(async (c) => {
      // Nodes starting together: one migrates, the others wait and then find nothing to do.
      await c.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
      await c.query("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)");
      const row = (await c.query("SELECT MAX(version) AS v FROM schema_version")).rows[0] as {
        v: number | null;
      };
      for (let v = (row.v ?? 0) + 1; v <= POSTGRES_MIGRATIONS.length; v++) {
        await c.query(POSTGRES_MIGRATIONS[v - 1]!);
        await c.query("INSERT INTO schema_version (version) VALUES ($1)", [v]);
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  // ---- users ----

  async getUser(address: string): Promise<StoredUser | null> {
    const a = address.toLowerCase();
    const rows = await this.q(
      "SELECT u.* FROM users u WHERE u.address = $1 UNION SELECT u.* FROM users u JOIN user_aliases x ON x.address = u.address WHERE x.alias = $1",
      [a],
    );
    return rows[0] ? this.userFromRow(rows[0]) : null;
  }

  private async userFromRow(row: Row, c: Q = this.pool): Promise<StoredUser> {
    const address = String(row.address);
    const aliases = await this.q(
      "SELECT alias FROM user_aliases WHERE address = $1 ORDER BY alias",
      [address],
      c,
    );
    const lists = await this.q(
      "SELECT kind, entry FROM user_lists WHERE address = $1 ORDER BY kind, position",
      [address],
      c,
    );
    return {
      id: String(row.id),
      tenant: String(row.tenant),
      address,
      aliases: aliases.map((r) => String(r.alias)),
      language: (row.language as "en" | "ja" | null) ?? null,
      spamFilter: (row.spam_filter as boolean | null) ?? null,
      thresholds: row.thresholds as StoredUser["thresholds"],
      whitelist: lists.filter((l) => l.kind === "whitelist").map((l) => String(l.entry)),
      blacklist: lists.filter((l) => l.kind === "blacklist").map((l) => String(l.entry)),
      sendAs: row.send_as as string[],
      passwordHash: (row.password_hash as string | null) ?? null,
    };
  }

  async putUser(u: StoredUser): Promise<void> {
    const address = u.address.toLowerCase();
    await this.tx(async (c) => {
      await c.query(
        `INSERT INTO users (address, id, tenant, language, spam_filter, thresholds, send_as, password_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (address) DO UPDATE SET id=excluded.id, tenant=excluded.tenant, language=excluded.language,
           spam_filter=excluded.spam_filter, thresholds=excluded.thresholds, send_as=excluded.send_as,
           password_hash=excluded.password_hash`,
        [
          address,
          u.id,
          u.tenant,
          u.language,
          u.spamFilter,
          JSON.stringify(u.thresholds),
          JSON.stringify(u.sendAs),
          u.passwordHash,
        ],
      );
      await c.query("DELETE FROM user_aliases WHERE address = $1", [address]);
      for (const a of u.aliases) {
        await c.query("INSERT INTO user_aliases (alias, address) VALUES ($1, $2)", [
          a.toLowerCase(),
          address,
        ]);
      }
      await writeList(c, address, "whitelist", u.whitelist);
      await writeList(c, address, "blacklist", u.blacklist);
    });
  }

  async deleteUser(address: string): Promise<boolean> {
    try {
      const r = await this.pool.query("DELETE FROM users WHERE address = $1", [address.toLowerCase()]);
      return (r.rowCount ?? 0) > 0;
    } catch (err) {
      throw wrap(err);
    }
  }

  async listUsers(tenant: string): Promise<StoredUser[]> {
    const rows = await this.q("SELECT * FROM users WHERE tenant = $1 ORDER BY address", [tenant]);
    return Promise.all(rows.map((r) => this.userFromRow(r)));
  }

  async setList(address: string, kind: ListKind, entries: string[], maxEntries: number): Promise<void> {
    if (entries.length > maxEntries) throw new ListLimitError(kind, maxEntries, entries.length);
    const a = address.toLowerCase();
    await this.tx(async (c) => {
      const exists = await c.query("SELECT 1 FROM users WHERE address = $1 FOR UPDATE", [a]);
      if (!exists.rowCount) throw new StoreError(`no such user: ${a}`);
      await writeList(c, a, kind, entries);
    });
  }

  // ---- quarantine ----

  async putQuarantine(item: QuarantineInput): Promise<void> {
    const now = new Date();
    await this.tx(async (c) => {
      await c.query(
        "INSERT INTO quarantine (id, tenant, created_at, envelope, score, symbols, subject, size, message) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
        [
          item.id,
          item.tenant,
          now,
          JSON.stringify(item.envelope),
          item.score,
          JSON.stringify(item.symbols),
          item.subject,
          item.message.length,
          item.message,
        ],
      );
      if (item.recipients.length) {
        await c.query(
          `INSERT INTO quarantine_rcpt (id, address, state, reason, updated_at, score, symbols)
           SELECT $1, a, 'quarantined', r, $4, sc, sy::jsonb
           FROM unnest($2::text[], $3::text[], $5::float8[], $6::text[]) AS t(a, r, sc, sy)`,
          [
            item.id,
            item.recipients.map((r) => r.address.toLowerCase()),
            item.recipients.map((r) => r.reason),
            now,
            item.recipients.map((r) => r.score ?? item.score),
            item.recipients.map((r) => JSON.stringify(r.symbols ?? item.symbols)),
          ],
        );
      }
    });
  }

  private async quarantineItems(rows: Row[]): Promise<QuarantineItem[]> {
    if (!rows.length) return [];
    const rcpts = await this.q(
      "SELECT id, address, state, reason, updated_at, score, symbols FROM quarantine_rcpt WHERE id = ANY($1) ORDER BY address",
      [rows.map((r) => r.id)],
    );
    return rows.map((row) => ({
      id: String(row.id),
      tenant: (row.tenant as string | null) ?? null,
      createdAt: row.created_at as Date,
      envelope: row.envelope as QuarantineItem["envelope"],
      score: Number(row.score),
      symbols: row.symbols as QuarantineItem["symbols"],
      subject: (row.subject as string | null) ?? null,
      size: Number(row.size),
      recipients: rcpts
        .filter((r) => r.id === row.id)
        .map((r) => ({
          address: String(r.address),
          state: r.state as QuarantineState,
          reason: String(r.reason),
          updatedAt: r.updated_at as Date,
          score: r.score === null ? Number(row.score) : Number(r.score),
          symbols: (r.symbols ?? row.symbols) as QuarantineItem["symbols"],
        })),
    }));
  }

  async getQuarantine(id: string): Promise<QuarantineItem | null> {
    const rows = await this.q(
      "SELECT id, tenant, created_at, envelope, score, symbols, subject, size FROM quarantine WHERE id = $1",
      [id],
    );
    return (await this.quarantineItems(rows))[0] ?? null;
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
    const args: unknown[] = [];
    const arg = (v: unknown) => `$${args.push(v)}`;
    if (q.tenant !== undefined) where.push(`q.tenant = ${arg(q.tenant)}`);
    if (q.since !== undefined) where.push(`q.created_at >= ${arg(q.since)}`);
    if (q.before !== undefined) where.push(`q.created_at < ${arg(q.before)}`);
    if (q.recipient !== undefined || q.state !== undefined) {
      const sub: string[] = [];
      if (q.recipient !== undefined) sub.push(`r.address = ${arg(q.recipient.toLowerCase())}`);
      if (q.state !== undefined) sub.push(`r.state = ${arg(q.state)}`);
      where.push(`EXISTS (SELECT 1 FROM quarantine_rcpt r WHERE r.id = q.id AND ${sub.join(" AND ")})`);
    }
    const rows = await this.q(
      `SELECT q.id, q.tenant, q.created_at, q.envelope, q.score, q.symbols, q.subject, q.size FROM quarantine q
       ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY q.created_at DESC, q.id LIMIT ${arg(q.limit ?? 100)}`,
      args,
    );
    return this.quarantineItems(rows);
  }

  async quarantineMessage(id: string): Promise<Buffer | null> {
    const rows = await this.q("SELECT message FROM quarantine WHERE id = $1", [id]);
    return rows[0] ? (rows[0].message as Buffer) : null;
  }

  async setQuarantineState(
    id: string,
    recipient: string,
    from: QuarantineState,
    to: QuarantineState,
  ): Promise<boolean> {
    return (
      (await this.count(
        "UPDATE quarantine_rcpt SET state = $1, updated_at = $2 WHERE id = $3 AND address = $4 AND state = $5",
        [to, new Date(), id, recipient.toLowerCase(), from],
      )) > 0
    );
  }

  async deleteQuarantine(id: string): Promise<void> {
    await this.q("DELETE FROM quarantine WHERE id = $1", [id]);
  }

  private async count(sql: string, args: unknown[], c: Q = this.pool): Promise<number> {
    try {
      return (await c.query(sql, args)).rowCount ?? 0;
    } catch (err) {
      throw wrap(err);
    }
  }

  // ---- hold queue ----

  async putHold(h: HoldInput): Promise<void> {
    await this.q(
      "INSERT INTO hold (id, tenant, created_at, release_at, state, reason, envelope, size, message) VALUES ($1,$2,$3,$4,'held',$5,$6,$7,$8)",
      [
        h.id,
        h.tenant,
        new Date(),
        h.releaseAt,
        h.reason,
        JSON.stringify(h.envelope),
        h.message.length,
        h.message,
      ],
    );
  }

  async deleteHold(id: string): Promise<void> {
    await this.q("DELETE FROM hold WHERE id = $1", [id]);
  }

  async getHold(id: string): Promise<HoldItem | null> {
    const rows = await this.q(`SELECT ${HOLD_COLS} FROM hold WHERE id = $1`, [id]);
    return rows[0] ? holdFromRow(rows[0]) : null;
  }

  async listHolds(q: { tenant?: string; state?: HoldState; limit?: number }): Promise<HoldItem[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const arg = (v: unknown) => `$${args.push(v)}`;
    if (q.tenant !== undefined) where.push(`tenant = ${arg(q.tenant)}`);
    if (q.state !== undefined) where.push(`state = ${arg(q.state)}`);
    const rows = await this.q(
      `SELECT ${HOLD_COLS} FROM hold ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY release_at, id LIMIT ${arg(q.limit ?? 100)}`,
      args,
    );
    return rows.map(holdFromRow);
  }

  async holdMessage(id: string): Promise<Buffer | null> {
    const rows = await this.q("SELECT message FROM hold WHERE id = $1", [id]);
    return rows[0] ? (rows[0].message as Buffer) : null;
  }

  async setHoldState(id: string, from: HoldState, to: HoldState): Promise<boolean> {
    return (await this.count("UPDATE hold SET state = $1 WHERE id = $2 AND state = $3", [to, id, from])) > 0;
  }

  async updateHold(id: string, patch: HoldPatch): Promise<boolean> {
    const sets: string[] = [];
    const args: unknown[] = [];
    const arg = (v: unknown) => `$${args.push(v)}`;
    if (patch.releaseAt !== undefined) sets.push(`release_at = ${arg(patch.releaseAt)}`);
    if (patch.approver !== undefined) sets.push(`approver = ${arg(patch.approver)}`);
    if (patch.approvedBy !== undefined) sets.push(`approved_by = ${arg(patch.approvedBy)}`);
    if (patch.noticeSentAt !== undefined) sets.push(`notice_sent_at = ${arg(patch.noticeSentAt)}`);
    if (!sets.length) return (await this.getHold(id))?.state === "held";
    return (
      (await this.count(
        `UPDATE hold SET ${sets.join(", ")} WHERE id = ${arg(id)} AND state = 'held'`,
        args,
      )) > 0
    );
  }

  // ---- release claims ----

  async claimRelease(c: ReleaseClaimInput): Promise<ReleaseClaim> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.tx((db) => this.claimIn(db, c));
      } catch (err) {
        // Two nodes claimed with the same key at once: the loser reads the winner's claim.
        if (attempt < 3 && (err as StoreError).cause && pgCode(err) === "23505") continue;
        throw err;
      }
    }
  }

  private async claimIn(db: Q, c: ReleaseClaimInput): Promise<ReleaseClaim> {
    const existing = await this.claimRow(c.key, db);
    if (existing) return existing;
    let recipients: string[] = [];
    // SKIP LOCKED: rows another node is reserving right now are not ours to take; once its
    // transaction commits they carry its release_key and stay out of reach anyway.
    if (c.kind === "quarantine") {
      const rows = await this.q(
        "SELECT address FROM quarantine_rcpt WHERE id = $1 AND state = 'quarantined' AND release_key IS NULL ORDER BY address FOR UPDATE SKIP LOCKED",
        [c.itemId],
        db,
      );
      const wanted = c.recipients === "all" ? null : new Set(c.recipients.map((r) => r.toLowerCase()));
      recipients = rows.map((r) => String(r.address)).filter((a) => !wanted || wanted.has(a));
      if (recipients.length) {
        await this.q(
          "UPDATE quarantine_rcpt SET release_key = $1 WHERE id = $2 AND address = ANY($3)",
          [c.key, c.itemId, recipients],
          db,
        );
      }
    } else {
      const rows = await this.q(
        "SELECT envelope FROM hold WHERE id = $1 AND state = 'held' AND release_key IS NULL FOR UPDATE SKIP LOCKED",
        [c.itemId],
        db,
      );
      if (rows[0]) {
        await this.q("UPDATE hold SET release_key = $1 WHERE id = $2", [c.key, c.itemId], db);
        recipients = (rows[0].envelope as { recipients: { address: string }[] }).recipients.map(
          (r) => r.address,
        );
      }
    }
    const now = new Date();
    const out = await this.q(
      "INSERT INTO release_claim (key, kind, item_id, recipients, actor, state, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$7) RETURNING *",
      [
        c.key,
        c.kind,
        c.itemId,
        JSON.stringify(recipients),
        c.actor,
        recipients.length ? "claimed" : "done",
        now,
      ],
      db,
    );
    return claimFromRow(out[0]!);
  }

  private async claimRow(key: string, c: Q = this.pool): Promise<ReleaseClaim | null> {
    const rows = await this.q("SELECT * FROM release_claim WHERE key = $1", [key], c);
    return rows[0] ? claimFromRow(rows[0]) : null;
  }

  async recordReleaseDelivery(
    key: string,
    accepted: string[],
    failed: { address: string; reason: string }[],
  ): Promise<void> {
    await this.q(
      "UPDATE release_claim SET state = 'delivered', accepted = $1, failed = $2, updated_at = $3 WHERE key = $4 AND state = 'claimed'",
      [JSON.stringify(accepted), JSON.stringify(failed), new Date(), key],
    );
  }

  async finishRelease(key: string): Promise<void> {
    await this.tx(async (db) => {
      const rows = await this.q("SELECT * FROM release_claim WHERE key = $1 FOR UPDATE", [key], db);
      if (!rows[0]) return;
      const c = claimFromRow(rows[0]);
      if (c.state === "done") return;
      const accepted = c.state === "delivered" ? c.accepted.map((a) => a.toLowerCase()) : [];
      const now = new Date();
      if (c.kind === "quarantine") {
        await this.q(
          "UPDATE quarantine_rcpt SET state = 'released', updated_at = $1 WHERE id = $2 AND address = ANY($3) AND release_key = $4 AND state = 'quarantined'",
          [now, c.itemId, accepted, key],
          db,
        );
        await this.q(
          "UPDATE quarantine_rcpt SET release_key = NULL WHERE id = $1 AND release_key = $2 AND state = 'quarantined'",
          [c.itemId, key],
          db,
        );
      } else if (accepted.length) {
        await this.q(
          "UPDATE hold SET state = 'released' WHERE id = $1 AND release_key = $2 AND state = 'held'",
          [c.itemId, key],
          db,
        );
      } else {
        await this.q(
          "UPDATE hold SET release_key = NULL WHERE id = $1 AND release_key = $2",
          [c.itemId, key],
          db,
        );
      }
      await this.q("UPDATE release_claim SET state = 'done', updated_at = $1 WHERE key = $2", [now, key], db);
    });
  }

  async getRelease(key: string): Promise<ReleaseClaim | null> {
    return this.claimRow(key);
  }

  async openReleases(): Promise<ReleaseClaim[]> {
    const rows = await this.q("SELECT * FROM release_claim WHERE state <> 'done' ORDER BY created_at, key");
    return rows.map(claimFromRow);
  }

  // ---- single-use tokens and job cursors ----

  async consumeToken(key: string, expiresAt: Date): Promise<boolean> {
    return this.tx(async (db) => {
      await db.query("DELETE FROM once_token WHERE expires_at < $1", [new Date()]);
      const r = await db.query(
        "INSERT INTO once_token (key, expires_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        [key, expiresAt],
      );
      return (r.rowCount ?? 0) > 0;
    });
  }

  async getCursor(name: string): Promise<Date | null> {
    const rows = await this.q("SELECT at FROM job_cursor WHERE name = $1", [name]);
    return rows[0] ? (rows[0].at as Date) : null;
  }

  async setCursor(name: string, at: Date): Promise<void> {
    await this.q(
      "INSERT INTO job_cursor (name, at) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET at = excluded.at",
      [name, at],
    );
  }

  // ---- message log ----

  async logMessage(e: LogEntry): Promise<void> {
    await this.tx(async (db) => {
      await db.query(
        "INSERT INTO message_log (id, at, tenant, ingress, client_address, sender, subject, size, recipients) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
        [
          e.id,
          e.at,
          e.tenant,
          e.ingress,
          e.clientAddress,
          e.sender.toLowerCase(),
          e.subject,
          e.size,
          JSON.stringify(e.recipients),
        ],
      );
      const addresses = [...new Set(e.recipients.map((r) => r.address.toLowerCase()))];
      if (addresses.length) {
        await db.query(
          "INSERT INTO message_log_rcpt (id, address) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING",
          [e.id, addresses],
        );
      }
    });
  }

  async getLog(id: string): Promise<LogEntry | null> {
    const rows = await this.q("SELECT * FROM message_log WHERE id = $1", [id]);
    return rows[0] ? logFromRow(rows[0]) : null;
  }

  async searchLog(q: LogQuery): Promise<LogEntry[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const arg = (v: unknown) => `$${args.push(v)}`;
    if (q.ref !== undefined)
      where.push(`(m.id = ${arg(q.ref)} OR m.id LIKE ${arg(`${likeEscape(q.ref)}-T%`)} ESCAPE '\\')`);
    if (q.tenant !== undefined) where.push(`m.tenant = ${arg(q.tenant)}`);
    if (q.sender !== undefined) where.push(`m.sender = ${arg(q.sender.toLowerCase())}`);
    if (q.since !== undefined) where.push(`m.at >= ${arg(q.since)}`);
    if (q.recipient !== undefined) {
      where.push(
        `EXISTS (SELECT 1 FROM message_log_rcpt r WHERE r.id = m.id AND r.address = ${arg(q.recipient.toLowerCase())})`,
      );
    }
    const rows = await this.q(
      `SELECT m.* FROM message_log m ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY m.at DESC, m.id LIMIT ${arg(q.limit ?? 100)}`,
      args,
    );
    return rows.map(logFromRow);
  }

  // ---- web console: accounts, sessions, audit log (src/web/) ----

  async getAccount(login: string): Promise<ConsoleAccount | null> {
    const rows = await this.q("SELECT * FROM console_account WHERE login = $1", [login]);
    return rows[0] ? accountFromRow(rows[0]) : null;
  }

  async putAccount(a: ConsoleAccount): Promise<void> {
    await this.q(
      `INSERT INTO console_account (login, role, tenant, password_hash, created_at) VALUES ($1,$2,$3,$4,$5)
       ON CONFLICT (login) DO UPDATE SET role=excluded.role, tenant=excluded.tenant, password_hash=excluded.password_hash`,
      [a.login, a.role, a.tenant, a.passwordHash, a.createdAt],
    );
  }

  async listAccounts(): Promise<ConsoleAccount[]> {
    return (await this.q("SELECT * FROM console_account ORDER BY login")).map(accountFromRow);
  }

  async putSession(s: WebSession): Promise<void> {
    await this.q("DELETE FROM web_session WHERE expires_at < $1", [new Date()]);
    await this.q(
      "INSERT INTO web_session (id, subject, role, tenant, csrf, expires_at) VALUES ($1,$2,$3,$4,$5,$6)",
      [s.id, s.subject, s.role, s.tenant, s.csrf, s.expiresAt],
    );
  }

  async getSession(id: string): Promise<WebSession | null> {
    const rows = await this.q("SELECT * FROM web_session WHERE id = $1 AND expires_at >= $2", [
      id,
      new Date(),
    ]);
    const row = rows[0];
    if (!row) return null;
    return {
      id: String(row.id),
      subject: String(row.subject),
      role: row.role as WebSession["role"],
      tenant: (row.tenant as string | null) ?? null,
      csrf: String(row.csrf),
      expiresAt: row.expires_at as Date,
    };
  }

  async deleteSession(id: string): Promise<void> {
    await this.q("DELETE FROM web_session WHERE id = $1", [id]);
  }

  async appendAudit(e: AuditEntry): Promise<void> {
    await this.q(
      "INSERT INTO audit_log (at, actor, action, target, tenant, before, after) VALUES ($1,$2,$3,$4,$5,$6,$7)",
      [
        e.at,
        e.actor,
        e.action,
        e.target,
        e.tenant,
        JSON.stringify(e.before ?? null),
        JSON.stringify(e.after ?? null),
      ],
    );
  }

  async listAudit(q: { tenant?: string; limit?: number }): Promise<AuditEntry[]> {
    const rows =
      q.tenant !== undefined
        ? await this.q("SELECT * FROM audit_log WHERE tenant = $1 ORDER BY seq DESC LIMIT $2", [
            q.tenant,
            q.limit ?? 100,
          ])
        : await this.q("SELECT * FROM audit_log ORDER BY seq DESC LIMIT $1", [q.limit ?? 100]);
    return rows.map((r) => ({
      at: r.at as Date,
      actor: String(r.actor),
      action: String(r.action),
      target: String(r.target),
      tenant: (r.tenant as string | null) ?? null,
      before: r.before ?? null,
      after: r.after ?? null,
    }));
  }

  // ---- cluster: configuration revisions, node heartbeats (src/cluster/) ----

  async publishConfig(r: ConfigRevisionInput): Promise<ConfigRevision> {
    return this.tx(async (db) => {
      const rows = await this.q(
        "INSERT INTO config_revision (role, text, author, note, rollback_of, created_at) VALUES ($1,$2,$3,$4,$5,$6) RETURNING *",
        [r.role, r.text, r.author, r.note, r.rollbackOf, new Date()],
        db,
      );
      const rev = revisionFromRow(rows[0]!);
      // Delivered to listeners when this transaction commits, never before.
      await db.query("SELECT pg_notify($1, $2)", [
        CONFIG_CHANNEL,
        JSON.stringify({ role: rev.role, rev: rev.rev }),
      ]);
      return rev;
    });
  }

  async getConfigRevision(rev: number): Promise<ConfigRevision | null> {
    const rows = await this.q("SELECT * FROM config_revision WHERE rev = $1", [rev]);
    return rows[0] ? revisionFromRow(rows[0]) : null;
  }

  async latestConfigRevision(role: string): Promise<ConfigRevision | null> {
    const rows = await this.q("SELECT * FROM config_revision WHERE role = $1 ORDER BY rev DESC LIMIT 1", [
      role,
    ]);
    return rows[0] ? revisionFromRow(rows[0]) : null;
  }

  async listConfigRevisions(q: { role?: string; limit?: number }): Promise<ConfigRevision[]> {
    const rows =
      q.role !== undefined
        ? await this.q("SELECT * FROM config_revision WHERE role = $1 ORDER BY rev DESC LIMIT $2", [
            q.role,
            q.limit ?? 100,
          ])
        : await this.q("SELECT * FROM config_revision ORDER BY rev DESC LIMIT $1", [q.limit ?? 100]);
    return rows.map(revisionFromRow);
  }

  async putHeartbeat(h: NodeHeartbeat): Promise<void> {
    await this.q(
      `INSERT INTO node_heartbeat (name, role, version, started_at, seen_at, applied_rev, health, failed_rev, error)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)
       ON CONFLICT (name) DO UPDATE SET role=excluded.role, version=excluded.version, started_at=excluded.started_at,
         seen_at=excluded.seen_at, applied_rev=excluded.applied_rev, health=excluded.health,
         failed_rev=excluded.failed_rev, error=excluded.error`,
      [h.name, h.role, h.version, h.startedAt, h.seenAt, h.appliedRev, h.health, h.failedRev, h.error],
    );
  }

  async listHeartbeats(): Promise<NodeHeartbeat[]> {
    const rows = await this.q("SELECT * FROM node_heartbeat ORDER BY name");
    return rows.map((r) => ({
      name: String(r.name),
      role: String(r.role),
      version: String(r.version),
      startedAt: r.started_at as Date,
      seenAt: r.seen_at as Date,
      appliedRev: (r.applied_rev as number | null) ?? null,
      health: r.health as NodeHeartbeat["health"],
      failedRev: (r.failed_rev as number | null) ?? null,
      error: (r.error as string | null) ?? null,
    }));
  }

  // Shadow runs notify on the revision channel too (rev 0): agents then re-read what to shadow.
  async startShadow(x: ShadowInput): Promise<ShadowRun> {
    return this.tx(async (db) => {
      const rows = await this.q(
        "INSERT INTO config_shadow (role, text, author, note, nodes, state, created_at) VALUES ($1,$2,$3,$4,$5,'running',$6) RETURNING *",
        [x.role, x.text, x.author, x.note, JSON.stringify(x.nodes), new Date()],
        db,
      );
      await db.query("SELECT pg_notify($1, $2)", [CONFIG_CHANNEL, JSON.stringify({ role: x.role, rev: 0 })]);
      return shadowFromRow(rows[0]!);
    });
  }

  async getShadow(id: number): Promise<ShadowRun | null> {
    const rows = await this.q("SELECT * FROM config_shadow WHERE id = $1", [id]);
    return rows[0] ? shadowFromRow(rows[0]) : null;
  }

  async listShadows(q: { role?: string; state?: ShadowRun["state"] }): Promise<ShadowRun[]> {
    const rows = await this.q(
      "SELECT * FROM config_shadow WHERE ($1::text IS NULL OR role = $1) AND ($2::text IS NULL OR state = $2) ORDER BY id DESC",
      [q.role ?? null, q.state ?? null],
    );
    return rows.map(shadowFromRow);
  }

  async endShadow(id: number, state: "published" | "discarded"): Promise<boolean> {
    return this.tx(async (db) => {
      const rows = await this.q(
        "UPDATE config_shadow SET state = $1 WHERE id = $2 AND state = 'running' RETURNING role",
        [state, id],
        db,
      );
      if (!rows[0]) return false;
      await db.query("SELECT pg_notify($1, $2)", [
        CONFIG_CHANNEL,
        JSON.stringify({ role: rows[0].role, rev: 0 }),
      ]);
      return true;
    });
  }

  async recordShadow(id: number, node: string, evaluated: number, diffs: ShadowDiff[]): Promise<void> {
    await this.tx(async (db) => {
      await db.query(
        `INSERT INTO shadow_count (shadow_id, node, evaluated) VALUES ($1, $2, $3)
         ON CONFLICT (shadow_id, node) DO UPDATE SET evaluated = shadow_count.evaluated + excluded.evaluated`,
        [id, node, evaluated],
      );
      for (const d of diffs) {
        await db.query(
          "INSERT INTO shadow_diff (shadow_id, node, message_id, at, sender, recipient, live_action, shadow_action) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
          [id, node, d.messageId, d.at, d.sender, d.recipient, d.liveAction, d.shadowAction],
        );
      }
    });
  }

  async shadowReport(id: number, limit = 1000): Promise<ShadowReport> {
    const counts = await this.q("SELECT node, evaluated FROM shadow_count WHERE shadow_id = $1", [id]);
    const diffs = await this.q("SELECT * FROM shadow_diff WHERE shadow_id = $1 ORDER BY seq DESC LIMIT $2", [
      id,
      limit,
    ]);
    return {
      evaluated: Object.fromEntries(counts.map((c) => [String(c.node), Number(c.evaluated)])),
      diffs: diffs.map((d) => ({
        node: String(d.node),
        messageId: String(d.message_id),
        at: d.at as Date,
        sender: String(d.sender),
        recipient: String(d.recipient),
        liveAction: String(d.live_action),
        shadowAction: String(d.shadow_action),
      })),
    };
  }

  // ---- sender authentication: DKIM keys (src/filters/auth/key-store.ts) ----

  async putDkimKey(k: DkimKeyRecord): Promise<void> {
    await this.q(
      `INSERT INTO dkim_key (domain, selector, tenant, algorithm, public_key, sealed_key, created_at)
       VALUES ($1,$2,$3,$4,$5,$6,$7)
       ON CONFLICT (domain, selector) DO UPDATE SET tenant = excluded.tenant, algorithm = excluded.algorithm,
         public_key = excluded.public_key, sealed_key = excluded.sealed_key, created_at = excluded.created_at`,
      [k.domain.toLowerCase(), k.selector, k.tenant, k.algorithm, k.publicKey, k.sealedKey, k.createdAt],
    );
  }

  async getDkimKey(domain: string, selector?: string): Promise<DkimKeyRecord | null> {
    const d = domain.toLowerCase();
    const rows =
      selector === undefined
        ? await this.q(
            "SELECT * FROM dkim_key WHERE domain = $1 ORDER BY created_at DESC, selector DESC LIMIT 1",
            [d],
          )
        : await this.q("SELECT * FROM dkim_key WHERE domain = $1 AND selector = $2", [d, selector]);
    return rows[0] ? dkimKeyFromRow(rows[0]) : null;
  }

  async listDkimKeys(q: { tenant?: string; domain?: string }): Promise<DkimKeyRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const arg = (v: unknown) => `$${args.push(v)}`;
    if (q.tenant !== undefined) where.push(`tenant = ${arg(q.tenant)}`);
    if (q.domain !== undefined) where.push(`domain = ${arg(q.domain.toLowerCase())}`);
    const rows = await this.q(
      `SELECT * FROM dkim_key${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY domain, selector`,
      args,
    );
    return rows.map(dkimKeyFromRow);
  }

  /**
   * LISTEN on the revision channel over a dedicated connection (not from the pool: LISTEN is
   * per session). Lost connections are retried with backoff until close(); onState says when.
   */
  async watchConfig(
    onRevision: (role: string, rev: number) => void,
    onState?: (up: boolean, err?: Error) => void,
  ): Promise<{ close(): Promise<void> }> {
    let stopped = false;
    let client: pg.Client | null = null;
    let timer: NodeJS.Timeout | null = null;
    let delay = 200;
    const connect = async (): Promise<void> => {
      if (stopped) return;
      const c = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: this.connectTimeoutMs });
      let failed = false;
      const fail = (err?: Error) => {
        if (failed) return;
        failed = true;
        c.removeAllListeners("notification");
        c.end().catch(() => undefined);
        if (client === c) client = null;
        if (stopped) return;
        onState?.(false, err);
        timer = setTimeout(() => void connect(), delay);
        delay = Math.min(delay * 2, 5000);
      };
      c.on("error", (err) => fail(err));
      c.on("end", () => fail(new Error("connection ended")));
      c.on("notification", (n) => {
        if (n.channel !== CONFIG_CHANNEL || !n.payload) return;
        try {
          const p = JSON.parse(n.payload) as { role: string; rev: number };
          onRevision(p.role, p.rev);
        } catch {
          // not ours
        }
      });
      try {
        await c.connect();
        await c.query(`LISTEN ${CONFIG_CHANNEL}`);
      } catch (err) {
        fail(err as Error);
        return;
      }
      if (stopped) {
        await c.end().catch(() => undefined);
        return;
      }
      client = c;
      delay = 200;
      onState?.(true);
    };
    await connect();
    return {
      close: async () => {
        stopped = true;
        if (timer) clearTimeout(timer);
        await client?.end().catch(() => undefined);
        client = null;
      },
    };
  }
}

async function writeList(c: Q, address: string, kind: ListKind, entries: string[]): Promise<void> {
  await c.query("DELETE FROM user_lists WHERE address = $1 AND kind = $2", [address, kind]);
  if (!entries.length) return;
  await c.query(
    `INSERT INTO user_lists (address, kind, position, entry)
     SELECT $1, $2, t.ord - 1, t.e FROM unnest($3::text[]) WITH ORDINALITY AS t(e, ord)`,
    [address, kind, entries.map((e) => e.toLowerCase())],
  );
}

function pgCode(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: string } }).cause;
  return cause?.code ?? (err as { code?: string }).code;
}

function wrap(err: unknown): unknown {
  // Our own errors and list limits pass through; driver and network errors become StoreError.
  if (err instanceof StoreError || err instanceof ListLimitError) return err;
  return new StoreError(`PostgreSQL: ${(err as Error).message}`, { cause: err });
}

function holdFromRow(row: Row): HoldItem {
  return {
    id: String(row.id),
    tenant: (row.tenant as string | null) ?? null,
    createdAt: row.created_at as Date,
    releaseAt: row.release_at as Date,
    state: row.state as HoldState,
    reason: String(row.reason),
    envelope: row.envelope as HoldItem["envelope"],
    size: Number(row.size),
    approver: (row.approver as string | null) ?? null,
    approvedBy: (row.approved_by as string | null) ?? null,
    noticeSentAt: (row.notice_sent_at as Date | null) ?? null,
  };
}

function claimFromRow(row: Row): ReleaseClaim {
  return {
    key: String(row.key),
    kind: row.kind as ReleaseClaim["kind"],
    itemId: String(row.item_id),
    recipients: row.recipients as string[],
    actor: String(row.actor),
    state: row.state as ReleaseClaim["state"],
    accepted: row.accepted as string[],
    failed: row.failed as ReleaseClaim["failed"],
    createdAt: row.created_at as Date,
  };
}

function logFromRow(row: Row): LogEntry {
  return {
    id: String(row.id),
    at: row.at as Date,
    tenant: (row.tenant as string | null) ?? null,
    ingress: String(row.ingress),
    clientAddress: String(row.client_address),
    sender: String(row.sender),
    subject: (row.subject as string | null) ?? null,
    size: Number(row.size),
    recipients: row.recipients as LogEntry["recipients"],
  };
}

function accountFromRow(row: Row): ConsoleAccount {
  return {
    login: String(row.login),
    role: row.role as ConsoleAccount["role"],
    tenant: (row.tenant as string | null) ?? null,
    passwordHash: String(row.password_hash),
    createdAt: row.created_at as Date,
  };
}

function revisionFromRow(row: Row): ConfigRevision {
  return {
    rev: Number(row.rev),
    role: String(row.role),
    text: String(row.text),
    author: String(row.author),
    note: (row.note as string | null) ?? null,
    rollbackOf: (row.rollback_of as number | null) ?? null,
    createdAt: row.created_at as Date,
  };
}

function dkimKeyFromRow(row: Row): DkimKeyRecord {
  return {
    domain: String(row.domain),
    selector: String(row.selector),
    tenant: (row.tenant as string | null) ?? null,
    algorithm: row.algorithm as DkimKeyRecord["algorithm"],
    publicKey: String(row.public_key),
    sealedKey: row.sealed_key as Buffer,
    createdAt: row.created_at as Date,
  };
}

function shadowFromRow(row: Row): ShadowRun {
  return {
    id: Number(row.id),
    role: String(row.role),
    text: String(row.text),
    author: String(row.author),
    note: (row.note as string | null) ?? null,
    nodes: row.nodes as string[],
    state: row.state as ShadowRun["state"],
    createdAt: row.created_at as Date,
  };
}

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}
