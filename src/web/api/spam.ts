// Spam feedback and learned models over the API: "report spam / not spam" for any message a
// user has (a mail client plug-in uploads it), the lessons and revisions of the learned models
// (operator), compaction now and rollback (operator, audited). Quarantined messages have their
// own buttons (quarantine.ts: release and learn as ham, report as spam).
import type { FastifyInstance } from "fastify";
import { learnForRecipient } from "../../filters/spam/feedback.ts";
import { SpamModel } from "../../filters/spam/model.ts";
import { DEFAULT_MODEL_PATH } from "../../filters/spam/classifier.ts";
import { assertTenant, requireAuth, requireRole } from "../auth/principal.ts";
import { HttpProblem, notFound } from "../problem.ts";
import type { ApiContext } from "./context.ts";
import { int, obj, str } from "./schema.ts";

/** Uploaded messages are capped (base64 of at most 10 MiB). */
const MAX_MESSAGE = 10 * 1024 * 1024;

export function spamRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const learning = () => {
    const l = ctx.runtime.spamLearning;
    if (!l) throw new HttpProblem(409, "this node keeps no spam lessons (no store)");
    return l;
  };

  app.post<{ Body: { label: "spam" | "ham"; message: string; recipient?: string } }>(
    "/api/spam/report",
    {
      schema: {
        summary: "Report a message as spam or not spam (a lesson for the recipient's classifier model)",
        tags: ["spam"],
        body: obj(
          {
            label: str({ enum: ["spam", "ham"] }),
            message: str({
              maxLength: Math.ceil((MAX_MESSAGE * 4) / 3) + 4,
              description: "the raw message, base64",
            }),
            recipient: str({
              maxLength: 320,
              description: "whose mail it is (admins; users: always themselves)",
            }),
          },
          ["label", "message"],
        ),
      },
    },
    async (req) => {
      const p = requireAuth(req);
      const recipient = (p.role === "user" ? p.subject : req.body.recipient)?.toLowerCase();
      if (!recipient) throw new HttpProblem(400, "recipient is required for administrators");
      const policy = await ctx.runtime.resolver.forRecipient(recipient);
      if (p.role !== "user") assertTenant(p, policy.tenant?.id ?? null, "no such recipient");
      const message = Buffer.from(req.body.message, "base64");
      if (message.length === 0 || message.indexOf(":") === -1) throw new HttpProblem(400, "not a message");
      const outcome = await learnForRecipient(
        learning(),
        policy.filters["spam-classifier"],
        policy.tenant?.id ?? null,
        { message, label: req.body.label, source: "feedback", actor: p.subject, recipient },
      );
      return { outcome };
    },
  );

  app.get(
    "/api/spam/status",
    { schema: { summary: "Lessons per model, class and source; model revisions", tags: ["spam"] } },
    async (req) => {
      requireRole(req, "operator");
      const store = learning().store;
      return {
        lessons: await store.spamLessonStats(),
        revisions: (await store.listSpamModels({ limit: 50 })).map(({ model: _model, ...r }) => r),
        live: await learning().status(),
      };
    },
  );

  app.post<{ Body: { scope?: string } }>(
    "/api/spam/compact",
    {
      schema: {
        summary: "Fold the lessons into a new model revision now",
        tags: ["spam"],
        body: obj({ scope: str({ maxLength: 64 }) }),
      },
    },
    async (req) => {
      const p = requireRole(req, "operator");
      const scope = req.body?.scope ?? "";
      const path =
        (
          ctx.runtime.resolver.connectionPolicy().filters["spam-classifier"]?.options as
            { model?: string } | undefined
        )?.model ?? DEFAULT_MODEL_PATH;
      const rev = await learning().compact(scope, () => SpamModel.load(path), `${p.role}:${p.subject}`);
      if (rev)
        await ctx.audit(p, "spam.compact", `spam-model:${rev.rev}`, null, null, { scope, rev: rev.rev });
      return { revision: rev ? rev.rev : null };
    },
  );

  app.post<{ Params: { rev: number } }>(
    "/api/spam/models/:rev/rollback",
    {
      schema: {
        summary: "Publish an earlier model revision again (like a configuration rollback)",
        tags: ["spam"],
        params: obj({ rev: int(1, 2 ** 31 - 1) }, ["rev"]),
      },
    },
    async (req) => {
      const p = requireRole(req, "operator");
      const l = learning();
      if (!(await l.store.getSpamModel(req.params.rev))) throw notFound("no such revision");
      const r = await l.rollback(req.params.rev, `${p.role}:${p.subject}`);
      await ctx.audit(p, "spam.rollback", `spam-model:${r.rev}`, null, null, { rollbackOf: req.params.rev });
      return { revision: r.rev };
    },
  );
}
