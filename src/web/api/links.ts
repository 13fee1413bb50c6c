// Signed links from digests and hold notices (src/quarantine/links.ts), redeemed without a
// login: the HMAC-signed token is the authority. Only POST acts (a GET from a mail scanner
// prefetching the link must never release anything); the console's link page asks first.
// Also the cluster's node list for operators.
import type { FastifyInstance } from "fastify";
import { redeemLink } from "../../quarantine/index.ts";
import { requireRole } from "../auth/principal.ts";
import { notFound } from "../problem.ts";
import type { ApiContext } from "./context.ts";
import { previewMessage } from "./mail-preview.ts";
import { obj, str } from "./schema.ts";

export function linkRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Body: { t: string } }>(
    "/api/links/redeem",
    {
      schema: {
        summary: "Redeem a digest or hold-notice link (release, view, send now, cancel); no login",
        tags: ["links"],
        body: obj({ t: str({ minLength: 10, maxLength: 4096 }) }, ["t"]),
      },
    },
    async (req) => {
      const r = await redeemLink(ctx.runtime, req.body.t);
      if (!r) throw notFound("invalid or expired link");
      if (r.kind === "view") {
        const q = await ctx.store.getQuarantine(r.quarantineId);
        const raw = await ctx.store.quarantineMessage(r.quarantineId);
        if (!q || !raw) throw notFound("no such quarantine entry");
        return { ...r, preview: await previewMessage(raw) };
      }
      await ctx.store.appendAudit({
        at: new Date(),
        actor: `link:${"recipient" in r ? r.recipient : "sender"}`,
        action: `link.${r.kind}`,
        target: "quarantineId" in r ? r.quarantineId : r.holdId,
        tenant: null,
        before: null,
        after: { status: r.status },
      });
      return r;
    },
  );

  app.get(
    "/api/nodes",
    { schema: { summary: "Cluster nodes and their applied revisions (operators)", tags: ["cluster"] } },
    async (req) => {
      requireRole(req, "operator");
      const now = Date.now();
      return {
        nodes: (await ctx.store.listHeartbeats()).map((n) => ({
          ...n,
          seenAgoS: Math.round((now - n.seenAt.getTime()) / 1000),
        })),
      };
    },
  );
}
