// The dashboard of one tenant (or of all, for operators): throughput, actions and the top symbols
// over time from the message log (buckets of 1 minute up to 3 h, 10 minutes up to 2 days, an
// hour beyond), spam and virus rates, and the state of what the node depends on — store,
// directory, readiness checks — with the cluster's nodes and revisions for operators. "Spam" is
// a recipient with a symbol whose name contains SPAM; "virus" one whose name contains VIRUS.
import type { FastifyInstance } from "fastify";
import { CachedDirectory } from "../../policy/cached-directory.ts";
import { OverrideDirectory } from "../../policy/override-directory.ts";
import { requireRole, tenantFilter } from "../auth/principal.ts";
import type { ApiContext } from "./context.ts";
import { int, obj, str } from "./schema.ts";

/** The most log entries one dashboard reads (beyond: `truncated`, the newest are shown). */
const MAX_ENTRIES = 50_000;
const TOP = 5;

export function bucketMinutes(minutes: number): number {
  return minutes <= 180 ? 1 : minutes <= 2880 ? 10 : 60;
}

export function dashboardRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: { minutes?: number; tenant?: string } }>(
    "/api/dashboard",
    {
      schema: {
        summary:
          "Throughput, actions and top symbols over time (per tenant), spam and virus rates, store/directory/node health",
        tags: ["dashboard"],
        querystring: obj({ minutes: int(1, 10_080), tenant: str({ maxLength: 64 }) }),
      },
    },
    async (req) => {
      const p = requireRole(req, "operator", "tenant_admin");
      const minutes = req.query.minutes ?? 60;
      const step = bucketMinutes(minutes) * 60_000;
      const now = Date.now();
      const start = Math.floor((now - minutes * 60_000) / step) * step;
      const tenant = tenantFilter(p, req.query.tenant);
      let storeOk = true;
      const entries = await ctx.store
        .searchLog({ tenant, since: new Date(start), limit: MAX_ENTRIES })
        .catch(() => ((storeOk = false), []));
      const buckets = new Map<
        number,
        { messages: number; recipients: number; counts: Record<string, number> }
      >();
      for (let t = start; t <= now; t += step) buckets.set(t, { messages: 0, recipients: 0, counts: {} });
      const actions: Record<string, number> = {};
      const symbols = new Map<string, number>();
      const symbolAt = new Map<string, Map<number, number>>();
      let recipients = 0;
      let spam = 0;
      let virus = 0;
      for (const e of entries) {
        const at = Math.floor(e.at.getTime() / step) * step;
        const b = buckets.get(at) ?? { messages: 0, recipients: 0, counts: {} };
        buckets.set(at, b);
        b.messages++;
        for (const r of e.recipients) {
          recipients++;
          b.recipients++;
          b.counts[r.action] = (b.counts[r.action] ?? 0) + 1;
          actions[r.action] = (actions[r.action] ?? 0) + 1;
          const names = r.symbols.map((s) => s.name);
          if (names.some((n) => n.includes("VIRUS"))) virus++;
          else if (names.some((n) => n.includes("SPAM"))) spam++;
          for (const n of new Set(names)) {
            symbols.set(n, (symbols.get(n) ?? 0) + 1);
            const m = symbolAt.get(n) ?? new Map<number, number>();
            symbolAt.set(n, m);
            m.set(at, (m.get(at) ?? 0) + 1);
          }
        }
      }
      const times = [...buckets.keys()].sort((a, b) => a - b);
      const topSymbols = [...symbols.entries()]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, 10)
        .map(([name, count]) => ({ name, count }));
      const series = times.map((t) => ({ at: new Date(t).toISOString(), ...buckets.get(t)! }));
      return {
        minutes,
        bucketMinutes: step / 60_000,
        tenant: tenant ?? null,
        tenants: ctx.runtime.config.tenants
          .map((t) => t.id)
          .filter((id) => tenant === undefined || id === tenant),
        messages: entries.length,
        recipients,
        actions,
        spamRate: recipients ? spam / recipients : 0,
        virusRate: recipients ? virus / recipients : 0,
        truncated: entries.length >= MAX_ENTRIES,
        series,
        // One bucket per minute for short ranges (older consoles read this name).
        perMinute: series.map((s) => ({ minute: s.at, counts: s.counts })),
        topSymbols,
        symbolSeries: topSymbols.slice(0, TOP).map(({ name }) => ({
          name,
          counts: times.map((t) => symbolAt.get(name)?.get(t) ?? 0),
        })),
        health: await health(ctx, storeOk),
        ...(p.role === "operator" ? { cluster: await cluster(ctx) } : {}),
      };
    },
  );
}

/** Store and directory as this node sees them, and its readiness checks (no addresses). */
async function health(ctx: ApiContext, storeOk: boolean) {
  const d = ctx.runtime.directory;
  const inner = d instanceof OverrideDirectory ? d.inner : d;
  const cfg = ctx.runtime.config;
  const h = ctx.runtime.health();
  const readiness = (h.readiness ?? null) as { checks?: Record<string, { up: boolean }> } | null;
  return {
    status: h.status,
    store: {
      kind: cfg.store.startsWith("sqlite:") ? "sqlite" : "postgresql",
      up: storeOk && ctx.runtime.storeError === null,
    },
    directory: {
      kind: cfg.directory?.type ?? "builtin",
      up: readiness?.checks?.directory?.up ?? null,
      cache: inner instanceof CachedDirectory ? inner.stats() : null,
    },
    checks: readiness?.checks
      ? Object.fromEntries(Object.entries(readiness.checks).map(([k, v]) => [k, v.up]))
      : {},
  };
}

/** Nodes and the newest revision of each role they run (operators). */
async function cluster(ctx: ApiContext) {
  const nodes = await ctx.store.listHeartbeats().catch(() => []);
  const roles = [...new Set([ctx.runtime.config.node.role, ...nodes.map((n) => n.role)])];
  const revisions = await Promise.all(
    roles.map(async (role) => {
      const r = await ctx.store.latestConfigRevision(role).catch(() => null);
      return { role, rev: r?.rev ?? null, author: r?.author ?? null, at: r?.createdAt ?? null };
    }),
  );
  const now = Date.now();
  return {
    nodes: nodes.map((n) => ({
      name: n.name,
      role: n.role,
      health: n.health,
      appliedRev: n.appliedRev,
      seenAgoS: Math.round((now - n.seenAt.getTime()) / 1000),
      error: n.error,
    })),
    revisions,
  };
}
