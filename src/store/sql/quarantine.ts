// QuarantineStore in SQL: one entry per message and tenant, with each recipient's own state
// and filter results (rows written before those were kept carry the entry's).
import type { QuarantineItem, QuarantineQuery, QuarantineState, QuarantineStore } from "../types.ts";
import { join, Query, raw, sql, where } from "./query.ts";
import { insertRows, str, strOrNull, type Dialect, type Row } from "./dialect.ts";

const COLS = sql`q.id, q.tenant, q.created_at, q.envelope, q.score, q.symbols, q.subject, q.size`;

export function quarantineStore(d: Dialect): QuarantineStore {
  async function items(found: Row[]): Promise<QuarantineItem[]> {
    if (!found.length) return [];
    const rcpts = await d.all(
      sql`SELECT id, address, state, reason, updated_at, score, symbols FROM quarantine_rcpt
          WHERE id${d.in(found.map((r) => r.id))} ORDER BY address`,
    );
    return found.map((row) => ({
      id: str(row.id),
      tenant: strOrNull(row.tenant),
      createdAt: d.time(row.created_at),
      envelope: d.json(row.envelope),
      score: Number(row.score),
      symbols: d.json(row.symbols),
      subject: strOrNull(row.subject),
      size: Number(row.size),
      recipients: rcpts
        .filter((r) => r.id === row.id)
        .map((r) => ({
          address: str(r.address),
          state: r.state as QuarantineState,
          reason: str(r.reason),
          updatedAt: d.time(r.updated_at),
          score: Number(r.score ?? row.score),
          symbols: d.json(r.symbols ?? row.symbols),
        })),
    }));
  }

  return {
    async putQuarantine(q) {
      const now = new Date();
      await d.tx(async (db) => {
        await db.run(
          sql`INSERT INTO quarantine (id, tenant, created_at, envelope, score, symbols, subject, size, message, sender)
              VALUES (${q.id}, ${q.tenant}, ${now}, ${JSON.stringify(q.envelope)}, ${q.score},
                ${JSON.stringify(q.symbols)}, ${q.subject}, ${q.message.length}, ${q.message},
                ${(q.envelope.mailFrom?.address ?? "").toLowerCase()})`,
        );
        await insertRows(
          db,
          sql`INSERT INTO quarantine_rcpt (id, address, state, reason, updated_at, score, symbols)`,
          q.recipients.map((r) => [
            q.id,
            r.address.toLowerCase(),
            "quarantined",
            r.reason,
            now,
            r.score ?? q.score,
            JSON.stringify(r.symbols ?? q.symbols),
          ]),
        );
      });
    },

    async getQuarantine(id) {
      return (await items(await d.all(sql`SELECT ${COLS} FROM quarantine q WHERE q.id = ${id}`)))[0] ?? null;
    },

    async listQuarantine(q) {
      const order = raw(q.order === "asc" ? "ASC" : "DESC");
      return items(
        await d.all(
          sql`SELECT ${COLS} FROM quarantine q${filter(q)}
              ORDER BY ${raw(SORT[q.sort ?? "created"])} ${order}, q.id ${order}
              LIMIT ${q.limit ?? 100} OFFSET ${q.offset ?? 0}`,
        ),
      );
    },

    async countQuarantine(q) {
      const [row] = await d.all(sql`SELECT COUNT(*) AS n FROM quarantine q${filter(q)}`);
      return Number(row?.n ?? 0);
    },

    async quarantineMessage(id) {
      const [row] = await d.all(sql`SELECT message FROM quarantine WHERE id = ${id}`);
      return row ? d.blob(row.message) : null;
    },

    async setQuarantineState(id, recipient, from, to) {
      const changed = await d.run(
        sql`UPDATE quarantine_rcpt SET state = ${to}, updated_at = ${new Date()}
            WHERE id = ${id} AND address = ${recipient.toLowerCase()} AND state = ${from}`,
      );
      return changed > 0;
    },

    async deleteQuarantine(id) {
      await d.run(sql`DELETE FROM quarantine WHERE id = ${id}`);
    },
  };
}

const SORT: Record<NonNullable<QuarantineQuery["sort"]>, string> = {
  created: "q.created_at",
  sender: "q.sender",
  subject: "q.subject",
  score: "q.score",
  size: "q.size",
};

function filter(q: QuarantineQuery): Query {
  const rcpt = [
    q.recipient !== undefined && sql` AND r.address = ${q.recipient.toLowerCase()}`,
    q.state !== undefined && sql` AND r.state = ${q.state}`,
  ].filter((c) => c instanceof Query);
  const like = (t: string) => `%${t.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return where([
    q.tenant !== undefined && sql`q.tenant = ${q.tenant}`,
    q.since !== undefined && sql`q.created_at >= ${q.since}`,
    q.before !== undefined && sql`q.created_at < ${q.before}`,
    q.sender !== undefined && sql`q.sender = ${q.sender.toLowerCase()}`,
    rcpt.length > 0 && sql`EXISTS (SELECT 1 FROM quarantine_rcpt r WHERE r.id = q.id${join(rcpt, "")})`,
    q.text !== undefined &&
      sql`(LOWER(COALESCE(q.subject, '')) LIKE ${like(q.text)} ESCAPE '\\' OR q.sender LIKE ${like(q.text)} ESCAPE '\\'
          OR LOWER(q.id) LIKE ${like(q.text)} ESCAPE '\\'
          OR EXISTS (SELECT 1 FROM quarantine_rcpt r WHERE r.id = q.id AND r.address LIKE ${like(q.text)} ESCAPE '\\'))`,
  ]);
}
