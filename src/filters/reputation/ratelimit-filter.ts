// The `ratelimit` filter (RCPT): messages and recipients per window by client network, by
// authenticated user (the compromised-account case), by sender domain, and messages per
// recipient, counted cluster-wide in the store. Over a limit: 451 4.7.1 with the reference id, a
// log line, a metric, and for a user an optional notice to the tenant's admins. Limits come from
// the policy (per tenant) and, for a user, from the directory (LDAP sluiceRate* attributes).
import MailComposer from "nodemailer/lib/mail-composer";
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { Envelope } from "../../message/envelope.ts";
import { domainOf } from "../../message/envelope.ts";
import type { User } from "../../message/types.ts";
import type { NotificationSender } from "../../notify/index.ts";
import type { Filter, FilterResult, RecipientResult } from "../../pipeline/types.ts";
import type { RateCounterStore } from "../../store/types.ts";
import { REPLIES } from "../../message/replies.ts";
import { parseFilterOptions } from "../options.ts";
import { NetworkList, networkOf, parseIp } from "./ip.ts";
import { warnThrottled } from "./lookup.ts";
import { defenceMetrics, type DefenceMetrics } from "./metrics.ts";
import { ratelimitOptionsSchema, type RatelimitOptions } from "./options.ts";

export interface SenderSide {
  /** The authenticated sender's tenant's ratelimit options (its user limits and notice). */
  options: RatelimitOptions;
  tenant: string;
  /** The tenant's first domain (default From of the admin notice). */
  domain: string;
}

export interface RatelimitDeps {
  store?: () => RateCounterStore | null;
  metrics?: DefenceMetrics;
  now?: () => Date;
  /** The authenticated sender's directory entry, for per-user limits; null when not found. */
  senderUser?: (login: string) => Promise<User | null>;
  /** The sender's tenant side of an authenticated envelope; null: the recipient's options apply. */
  senderSide?: (env: Envelope) => SenderSide | null;
  /** Where admin notices go out; null: none are sent. */
  notifier?: () => NotificationSender | null;
}

type Kind = "client" | "user" | "sender_domain" | "recipient";
type Measure = "messages" | "recipients";

interface Counted {
  key: string;
  amount: number;
  limit: number;
  kind: Kind;
  measure: Measure;
  /** Whose count it is (network, login, domain, address). */
  who: string;
}

const PRUNE_EVERY_MS = 5 * 60_000;

const exemptLists = new WeakMap<RatelimitOptions, NetworkList>();
function exempt(o: RatelimitOptions): NetworkList {
  let l = exemptLists.get(o);
  if (!l) exemptLists.set(o, (l = new NetworkList(o.exempt_networks)));
  return l;
}

function per(windowS: number): string {
  if (windowS === 3600) return "per hour";
  if (windowS === 86_400) return "per day";
  if (windowS === 60) return "per minute";
  return `per ${windowS} s`;
}

/** The count a window holds by now: this window plus the part of the last one still inside the span. */
export function slidingCount(current: number, previous: number, windowS: number, now: Date): number {
  const start = Math.floor(now.getTime() / 1000 / windowS) * windowS * 1000;
  const elapsed = Math.min(1, Math.max(0, (now.getTime() - start) / (windowS * 1000)));
  return current + previous * (1 - elapsed);
}

function replyText(c: Counted, windowS: number): string {
  const what = c.measure;
  switch (c.kind) {
    case "client":
      return `Too many ${what} from your network ${c.who} (limit ${c.limit} ${per(windowS)}), try again later`;
    case "user":
      return `Sending limit reached for ${c.who}: ${c.limit} ${what} ${per(windowS)}, try again later`;
    case "sender_domain":
      return `Too many ${what} from ${c.who} (limit ${c.limit} ${per(windowS)}), try again later`;
    case "recipient":
      return `Too many messages for ${c.who} (limit ${c.limit} ${per(windowS)}), try again later`;
  }
}

export function createRatelimitFilter(deps: RatelimitDeps = {}): Filter {
  const metrics = deps.metrics ?? defenceMetrics();
  const now = deps.now ?? (() => new Date());
  /** Transactions whose message is counted already (a message counts once, at its first RCPT). */
  const counted = new WeakSet<Envelope>();
  let lastPrune = Date.now();
  let longestWindow = 3600;

  const prune = (store: RateCounterStore, at: Date, log: Logger) => {
    if (at.getTime() - lastPrune < PRUNE_EVERY_MS) return;
    lastPrune = at.getTime();
    store.pruneRates(new Date(at.getTime() - 2 * longestWindow * 1000)).catch((err: Error) => {
      log.warn({ err: err.message }, "rate limits: pruning failed");
    });
  };

  return {
    name: "ratelimit",
    group: "ratelimit",
    stages: ["rcpt"],
    priority: 7,
    enabledByDefault: false,
    parseOptions: (raw) => parseFilterOptions(ratelimitOptionsSchema, raw),
    async check(ctx): Promise<FilterResult> {
      if (ctx.stage !== "rcpt") return {};
      const env = ctx.envelope;
      // An offline scan or a release must not count (nor be refused); shadow runs have no store.
      if (env.ingress === "scan" || env.ingress === "release") return { note: `${env.ingress}: not counted` };
      const store = deps.store?.() ?? null;
      if (!store) return { note: "no store: not counted" };
      const at = now();
      const first = !counted.has(env);
      const side = env.auth ? (deps.senderSide?.(env) ?? null) : null;
      const user = env.auth && deps.senderUser ? await deps.senderUser(env.auth).catch(() => null) : null;
      const recipients: Record<string, RecipientResult> = {};
      let anyCounted = false;
      for (const rc of ctx.recipients) {
        const o =
          (rc.policy.filters.ratelimit?.options as RatelimitOptions | undefined) ??
          (ctx.options as RatelimitOptions);
        if (exempt(o).has(env.client.address)) {
          recipients[rc.address] = { note: `client ${env.client.address} in exempt_networks` };
          continue;
        }
        const uo = side?.options ?? o;
        const hits = countsFor(env, rc.address, o, uo, user, first);
        if (hits.length === 0) {
          recipients[rc.address] = { note: "no limit applies" };
          continue;
        }
        longestWindow = Math.max(longestWindow, o.window_s, uo.window_s);
        let counts: { key: string; current: number; previous: number }[];
        try {
          counts = await countAll(store, hits, at);
        } catch (err) {
          metrics.rateErrors.inc();
          warnThrottled(
            ctx.log,
            "ratelimit store",
            { err: (err as Error).message },
            "rate limits: store unavailable; mail let through",
          );
          recipients[rc.address] = { note: `store unavailable, let through: ${(err as Error).message}` };
          continue;
        }
        const over: (Counted & { count: number; windowS: number })[] = [];
        const notes: string[] = [];
        hits.forEach((h, i) => {
          const c = counts[i]!;
          const count = slidingCount(c.current, c.previous, h.windowS, at);
          notes.push(`${h.kind} ${h.measure} ${h.who}: ${Math.ceil(count)}/${h.limit}`);
          if (count > h.limit) over.push({ ...h, count, windowS: h.windowS });
        });
        if (over.length === 0) {
          anyCounted = true;
          recipients[rc.address] = { note: notes.join("; ") };
          continue;
        }
        // A refused attempt is given back: the client is not punished for retrying.
        await countAll(
          store,
          hits.map((h) => ({ ...h, amount: -h.amount })),
          at,
        ).catch(() => undefined);
        const o1 = over[0]!;
        for (const x of over) metrics.rateLimited.inc({ limit: `${x.kind}_${x.measure}` });
        ctx.log.warn(
          {
            client: env.client.address,
            auth: env.auth ?? undefined,
            from: env.mailFrom?.address ?? "",
            rcpt: rc.address,
            limits: over.map((x) => ({
              limit: `${x.kind}_${x.measure}`,
              who: x.who,
              count: Math.ceil(x.count),
              max: x.limit,
              window_s: x.windowS,
            })),
          },
          "rate limit exceeded",
        );
        const userOver = over.find((x) => x.kind === "user");
        if (userOver && side?.options.notify)
          void notifyAdmins(deps, store, side, userOver, env, at, ctx.log);
        recipients[rc.address] = {
          symbols: over.map((x) => ({
            name: `RATELIMIT_${x.kind.toUpperCase()}_${x.measure.toUpperCase()}`,
            score: 0,
            detail: `${x.who}: ${Math.ceil(x.count)} > ${x.limit} ${per(x.windowS)}`,
          })),
          action: {
            type: "tempfail",
            reply: {
              code: REPLIES.rateLimited.code,
              enhanced: REPLIES.rateLimited.enhanced,
              text: replyText(o1, o1.windowS),
            },
            reason: `rate limit ${o1.kind} ${o1.measure} (${o1.who})`,
          },
          note: notes.join("; "),
        };
      }
      if (anyCounted && first) counted.add(env);
      prune(store, at, ctx.log);
      return { recipients };
    },
  };
}

type Hit = Counted & { windowS: number };

/** What this RCPT adds to which counters (only counters with a limit are kept). */
function countsFor(
  env: Envelope,
  rcpt: string,
  o: RatelimitOptions,
  uo: RatelimitOptions,
  user: User | null,
  first: boolean,
): Hit[] {
  const out: Hit[] = [];
  const add = (kind: Kind, measure: Measure, who: string, limit: number, windowS: number, amount: number) => {
    if (limit > 0 && amount > 0 && who)
      out.push({ key: `${kind}:${measure}:${windowS}:${who}`, amount, limit, kind, measure, who, windowS });
  };
  const ip = parseIp(env.client.address);
  if (ip) {
    const net = networkOf(ip, o.prefix_v4, o.prefix_v6);
    add("client", "messages", net, o.client.messages, o.window_s, first ? 1 : 0);
    add("client", "recipients", net, o.client.recipients, o.window_s, 1);
  }
  if (env.auth) {
    const login = env.auth.toLowerCase();
    const scale = (perHour: number | undefined, fallback: number) =>
      perHour === undefined ? fallback : Math.max(1, Math.round((perHour * uo.window_s) / 3600));
    const own = user?.rateLimits;
    add("user", "messages", login, scale(own?.messagesPerHour, uo.user.messages), uo.window_s, first ? 1 : 0);
    add("user", "recipients", login, scale(own?.recipientsPerHour, uo.user.recipients), uo.window_s, 1);
  }
  const domain = domainOf(env.mailFrom?.address ?? "");
  add("sender_domain", "messages", domain, o.sender_domain.messages, o.window_s, first ? 1 : 0);
  add("sender_domain", "recipients", domain, o.sender_domain.recipients, o.window_s, 1);
  add("recipient", "messages", rcpt.toLowerCase(), o.recipient.messages, o.window_s, 1);
  return out;
}

/** One store call per window length (usually one), answers in the order of `hits`. */
async function countAll(store: RateCounterStore, hits: Hit[], at: Date) {
  const windows = [...new Set(hits.map((h) => h.windowS))];
  const byKey = new Map<string, { key: string; current: number; previous: number }>();
  for (const w of windows) {
    const rows = await store.countRates(
      hits.filter((h) => h.windowS === w).map((h) => ({ key: h.key, amount: h.amount })),
      w,
      at,
    );
    for (const r of rows) byKey.set(r.key, r);
  }
  return hits.map((h) => byKey.get(h.key) ?? { key: h.key, current: 0, previous: 0 });
}

/** Tell the tenant's admins, at most once per interval per user across the cluster. */
async function notifyAdmins(
  deps: RatelimitDeps,
  store: RateCounterStore,
  side: SenderSide,
  over: Hit & { count: number },
  env: Envelope,
  at: Date,
  log: Logger,
): Promise<void> {
  const n = side.options.notify!;
  const sender = deps.notifier?.() ?? null;
  if (!sender) return;
  try {
    const [mark] = await store.countRates([{ key: `notice:${over.who}`, amount: 1 }], n.interval_s, at);
    if (mark && mark.current > 1) return;
    const from = n.from ?? `postmaster@${side.domain}`;
    for (const to of n.to) {
      const message = await new MailComposer({
        from,
        to,
        subject: `Sending limit reached: ${over.who}`,
        text: [
          `The account ${over.who} went over its sending limit and its mail is being deferred.`,
          "",
          `Limit:    ${over.limit} ${over.measure} ${per(over.windowS)}`,
          `Count:    ${Math.ceil(over.count)}`,
          `Client:   ${env.client.address}`,
          `Sender:   ${env.mailFrom?.address || "<>"}`,
          `Time:     ${at.toISOString()}`,
          "",
          "If the account is compromised, change its password; its mail is accepted again once it",
          "stays under the limit. You are told at most once per " + `${n.interval_s} s for this account.`,
        ].join("\n"),
        date: at,
        messageId: `<${Date.now().toString(36)}.${randomBytes(8).toString("hex")}@${side.domain}>`,
        headers: { "Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All" },
      })
        .compile()
        .build();
      await sender.send("", to, message);
    }
    log.info({ user: over.who, to: n.to }, "rate limit: admin notice sent");
  } catch (err) {
    log.warn({ user: over.who, err: (err as Error).message }, "rate limit: admin notice failed");
  }
}
