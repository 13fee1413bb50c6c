// Dashboard figures from the message log of the last N minutes: recipients per minute by
// action, spam and virus rates, top symbols. "Spam" is a recipient with a symbol whose name
// contains SPAM (classifier, SpamAssassin, Rspamd); "virus" one whose name contains VIRUS.
import type { FastifyInstance } from "fastify";
import { requireRole, tenantFilter } from "../auth/principal.ts";
import type { ApiContext } from "./context.ts";
import { int, obj, str } from "./schema.ts";

export function dashboardRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: { minutes?: number; tenant?: string } }>(
    "/api/dashboard",
    {
      schema: {
        summary: "Recipients per minute by action, spam and virus rates, top symbols",
        tags: ["dashboard"],
        querystring: obj({ minutes: int(1, 1440), tenant: str({ maxLength: 64 }) }),
      },
    },
    async (req) => {
      const p = requireRole(req, "operator", "tenant_admin");
      const minutes = req.query.minutes ?? 60;
      const now = Date.now();
      const start = Math.floor((now - minutes * 60_000) / 60_000) * 60_000;
      const entries = await ctx.store.searchLog({
        tenant: tenantFilter(p, req.query.tenant),
        since: new Date(start),
        limit: 20_000,
      });
      const perMinute = new Map<number, Record<string, number>>();
      for (let t = start; t <= now; t += 60_000) perMinute.set(t, {});
      const actions: Record<string, number> = {};
      const symbols = new Map<string, number>();
      let recipients = 0;
      let spam = 0;
      let virus = 0;
      for (const e of entries) {
        const minute = Math.floor(e.at.getTime() / 60_000) * 60_000;
        const bucket = perMinute.get(minute) ?? {};
        perMinute.set(minute, bucket);
        for (const r of e.recipients) {
          recipients++;
          bucket[r.action] = (bucket[r.action] ?? 0) + 1;
          actions[r.action] = (actions[r.action] ?? 0) + 1;
          const names = r.symbols.map((s) => s.name);
          if (names.some((n) => n.includes("VIRUS"))) virus++;
          else if (names.some((n) => n.includes("SPAM"))) spam++;
          for (const n of new Set(names)) symbols.set(n, (symbols.get(n) ?? 0) + 1);
        }
      }
      return {
        minutes,
        messages: entries.length,
        recipients,
        actions,
        spamRate: recipients ? spam / recipients : 0,
        virusRate: recipients ? virus / recipients : 0,
        perMinute: [...perMinute.entries()]
          .sort((a, b) => a[0] - b[0])
          .map(([t, counts]) => ({ minute: new Date(t).toISOString(), counts })),
        topSymbols: [...symbols.entries()]
          .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
          .slice(0, 10)
          .map(([name, count]) => ({ name, count })),
      };
    },
  );
}
