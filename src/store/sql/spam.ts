// SpamLearningStore in SQL: the classifier's lessons (one per scope, message and label) and the
// model revisions compacted from them. Lessons are read in id order by every node, so every node
// applies the same lessons in the same order (src/filters/spam/learning.ts).
import type { SpamLearningStore, SpamLesson, SpamLessonSource, SpamModelRevision } from "../types.ts";
import { sql, where } from "./query.ts";
import { numOrNull, str, strOrNull, type Dialect, type Row } from "./dialect.ts";

export function spamLearningStore(d: Dialect): SpamLearningStore {
  const lesson = (row: Row): SpamLesson => ({
    id: Number(row.id),
    scope: str(row.scope),
    tenant: strOrNull(row.tenant),
    label: row.label as SpamLesson["label"],
    source: row.source as SpamLessonSource,
    actor: strOrNull(row.actor),
    recipient: strOrNull(row.recipient),
    sender: strOrNull(row.sender),
    hash: str(row.hash),
    tokenizer: Number(row.tokenizer),
    features: d.blob(row.features),
    disagrees: d.bool(row.disagrees) ?? false,
    createdAt: d.time(row.created_at),
  });

  const revision = (row: Row, withModel = true): SpamModelRevision => ({
    rev: Number(row.rev),
    scope: str(row.scope),
    model: withModel ? d.blob(row.model) : Buffer.alloc(0),
    lessonsUpTo: Number(row.lessons_upto),
    author: str(row.author),
    note: strOrNull(row.note),
    rollbackOf: numOrNull(row.rollback_of),
    createdAt: d.time(row.created_at),
  });

  return {
    async addSpamLesson(l) {
      const [row] = await d.all(
        sql`INSERT INTO spam_lesson (scope, tenant, label, source, actor, recipient, sender, hash, tokenizer,
              features, disagrees, created_at)
            VALUES (${l.scope}, ${l.tenant}, ${l.label}, ${l.source}, ${l.actor}, ${l.recipient}, ${l.sender},
              ${l.hash}, ${l.tokenizer}, ${l.features}, ${l.disagrees}, ${l.createdAt})
            ON CONFLICT (scope, hash, label) DO NOTHING RETURNING *`,
      );
      return row ? lesson(row) : null;
    },

    async listSpamLessons(q) {
      const found = await d.all(
        sql`SELECT * FROM spam_lesson WHERE scope = ${q.scope} AND id > ${q.afterId} ORDER BY id LIMIT ${q.limit}`,
      );
      return found.map(lesson);
    },

    async countSpamLessons(q) {
      const filter = where([
        q.scope !== undefined && sql`scope = ${q.scope}`,
        q.tenant !== undefined && sql`tenant = ${q.tenant}`,
        q.actor !== undefined && sql`actor = ${q.actor}`,
        q.recipient !== undefined && sql`recipient = ${q.recipient}`,
        q.sender !== undefined && sql`sender = ${q.sender}`,
        q.label !== undefined && sql`label = ${q.label}`,
        q.hash !== undefined && sql`hash = ${q.hash}`,
        q.since !== undefined && sql`created_at >= ${q.since}`,
        q.sources !== undefined && q.sources.length > 0 && sql`source${d.in(q.sources)}`,
      ]);
      const [row] = await d.all(sql`SELECT COUNT(*) AS n FROM spam_lesson${filter}`);
      return Number(row?.n ?? 0);
    },

    async spamLessonStats() {
      const found = await d.all(
        sql`SELECT scope, label, source, COUNT(*) AS n, SUM(CASE WHEN disagrees THEN 1 ELSE 0 END) AS dis
            FROM spam_lesson GROUP BY scope, label, source ORDER BY scope, label, source`,
      );
      return found.map((r) => ({
        scope: str(r.scope),
        label: r.label as "spam" | "ham",
        source: r.source as SpamLessonSource,
        count: Number(r.n),
        disagreements: Number(r.dis ?? 0),
      }));
    },

    async publishSpamModel(m) {
      const [row] = await d.all(
        sql`INSERT INTO spam_model (scope, model, lessons_upto, author, note, rollback_of, created_at)
            VALUES (${m.scope}, ${m.model}, ${m.lessonsUpTo}, ${m.author}, ${m.note}, ${m.rollbackOf}, ${new Date()})
            RETURNING *`,
      );
      return revision(row!);
    },

    async getSpamModel(rev) {
      const [row] = await d.all(sql`SELECT * FROM spam_model WHERE rev = ${rev}`);
      return row ? revision(row) : null;
    },

    async latestSpamModel(scope) {
      const [row] = await d.all(
        sql`SELECT * FROM spam_model WHERE scope = ${scope} ORDER BY rev DESC LIMIT 1`,
      );
      return row ? revision(row) : null;
    },

    async listSpamModels(q) {
      const found = await d.all(
        sql`SELECT rev, scope, lessons_upto, author, note, rollback_of, created_at FROM spam_model${where([
          q.scope !== undefined && sql`scope = ${q.scope}`,
        ])} ORDER BY rev DESC LIMIT ${q.limit ?? 100}`,
      );
      return found.map((r) => revision(r, false));
    },
  };
}
