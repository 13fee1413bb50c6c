// MessageLogStore in SQL: one entry per message and tenant, searchable by recipient, sender,
// tenant, time and reference id. Where the dialect asks for it (SQLite) writes are group
// committed: calls within a few milliseconds share one transaction (one fsync), and each
// promise still resolves only once its entry is committed.
import type { LogEntry, LogQuery, MessageLogStore } from "../types.ts";
import { raw, sql, where, type Query } from "./query.ts";
import { insertRows, str, strOrNull, type Db, type Dialect, type Row } from "./dialect.ts";

const BATCH = 256;
const DELAY_MS = 5;

export type MessageLog = MessageLogStore & { flush(): Promise<void> };

export function messageLogStore(d: Dialect): MessageLog {
  let queue: { e: LogEntry; resolve: () => void; reject: (err: unknown) => void }[] = [];
  let timer: NodeJS.Timeout | null = null;

  async function write(db: Db, entries: LogEntry[]): Promise<void> {
    await insertRows(
      db,
      sql`INSERT INTO message_log (id, at, tenant, ingress, client_address, sender, subject, size, recipients)`,
      entries.map((e) => [
        e.id,
        e.at,
        e.tenant,
        e.ingress,
        e.clientAddress,
        e.sender.toLowerCase(),
        e.subject,
        e.size,
        JSON.stringify(e.recipients),
      ]),
    );
    const rcpts = entries.flatMap((e) =>
      [...new Set(e.recipients.map((r) => r.address.toLowerCase()))].map((a) => [e.id, a]),
    );
    await insertRows(
      db,
      sql`INSERT INTO message_log_rcpt (id, address)`,
      rcpts,
      sql` ON CONFLICT DO NOTHING`,
    );
  }

  async function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = null;
    const batch = queue;
    queue = [];
    if (!batch.length) return;
    try {
      await d.tx((db) =>
        write(
          db,
          batch.map((b) => b.e),
        ),
      );
      for (const b of batch) b.resolve();
    } catch (err) {
      // One bad entry (a duplicate id) must not sink the others: retry them one by one.
      if (batch.length === 1) return batch[0]!.reject(err);
      for (const b of batch) {
        await d.tx((db) => write(db, [b.e])).then(b.resolve, b.reject);
      }
    }
  }

  const entry = (row: Row): LogEntry => ({
    id: str(row.id),
    at: d.time(row.at),
    tenant: strOrNull(row.tenant),
    ingress: str(row.ingress),
    clientAddress: str(row.client_address),
    sender: str(row.sender),
    subject: strOrNull(row.subject),
    size: Number(row.size),
    recipients: d.json(row.recipients),
  });

  return {
    flush,

    logMessage(e) {
      if (!d.groupCommit) return d.tx((db) => write(db, [e]));
      return new Promise((resolve, reject) => {
        queue.push({ e, resolve, reject });
        if (queue.length >= BATCH) void flush();
        else timer ??= setTimeout(() => void flush(), DELAY_MS);
      });
    },

    async getLog(id) {
      const [row] = await d.all(sql`SELECT * FROM message_log WHERE id = ${id}`);
      return row ? entry(row) : null;
    },

    async searchLog(q) {
      const order = raw(q.order === "asc" ? "ASC" : "DESC");
      const found = await d.all(
        sql`SELECT m.* FROM message_log m${filter(q)} ORDER BY ${raw(SORT[q.sort ?? "at"])} ${order}, m.id ${order}
            LIMIT ${q.limit ?? 100} OFFSET ${q.offset ?? 0}`,
      );
      return found.map(entry);
    },

    async updateLogRecipients(id, recipients) {
      await flush();
      await d.run(sql`UPDATE message_log SET recipients = ${JSON.stringify(recipients)} WHERE id = ${id}`);
    },

    async countLog(q) {
      const [row] = await d.all(sql`SELECT COUNT(*) AS n FROM message_log m${filter(q)}`);
      return Number(row?.n ?? 0);
    },
  };
}

const SORT: Record<NonNullable<LogQuery["sort"]>, string> = {
  at: "m.at",
  sender: "m.sender",
  subject: "m.subject",
  size: "m.size",
};

function filter(q: LogQuery): Query {
  const like = (t: string) => `%${likeEscape(t.toLowerCase())}%`;
  return where([
    q.ref !== undefined && sql`(m.id = ${q.ref} OR m.id LIKE ${`${likeEscape(q.ref)}-T%`} ESCAPE '\\')`,
    q.tenant !== undefined && sql`m.tenant = ${q.tenant}`,
    q.sender !== undefined && sql`m.sender = ${q.sender.toLowerCase()}`,
    q.since !== undefined && sql`m.at >= ${q.since}`,
    q.before !== undefined && sql`m.at < ${q.before}`,
    q.recipient !== undefined &&
      sql`EXISTS (SELECT 1 FROM message_log_rcpt r WHERE r.id = m.id AND r.address = ${q.recipient.toLowerCase()})`,
    q.subject !== undefined && sql`LOWER(COALESCE(m.subject, '')) LIKE ${like(q.subject)} ESCAPE '\\'`,
    q.text !== undefined &&
      sql`(LOWER(COALESCE(m.subject, '')) LIKE ${like(q.text)} ESCAPE '\\' OR m.sender LIKE ${like(q.text)} ESCAPE '\\'
          OR LOWER(m.id) LIKE ${like(q.text)} ESCAPE '\\'
          OR EXISTS (SELECT 1 FROM message_log_rcpt r WHERE r.id = m.id AND r.address LIKE ${like(q.text)} ESCAPE '\\'))`,
  ]);
}

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}
