// The `greylist` filter (RCPT): a new (client network, sender, recipient) triplet is tempfailed
// until the client retries after the delay, as a real MTA does and most spamware does not. State
// is in the store, shared by the cluster. Never for submission ports or authenticated clients;
// skipped by an allow-list (DNSWL) hit, allow_networks, or a client network that passed often
// enough. A store that cannot answer lets the mail through (logged): greylisting is a filter of
// convenience, not a reason to refuse mail.
import type { Filter, FilterResult, RecipientResult } from "../../pipeline/types.ts";
import type { GreylistStore } from "../../store/types.ts";
import { REPLIES } from "../../message/replies.ts";
import { parseFilterOptions } from "../options.ts";
import { NetworkList, networkOf, parseIp } from "./ip.ts";
import { warnThrottled } from "./lookup.ts";
import { defenceMetrics, type DefenceMetrics } from "./metrics.ts";
import { greylistOptionsSchema, type GreylistOptions } from "./options.ts";

export interface GreylistDeps {
  /** The store holds the state; a function because the store opens after the filters exist. */
  store?: () => GreylistStore | null;
  metrics?: DefenceMetrics;
  now?: () => Date;
}

const PRUNE_EVERY_MS = 10 * 60_000;

const allowLists = new WeakMap<GreylistOptions, NetworkList>();
function allowed(o: GreylistOptions): NetworkList {
  let l = allowLists.get(o);
  if (!l) allowLists.set(o, (l = new NetworkList(o.allow_networks)));
  return l;
}

/**
 * The sender as greylisting keys it: lower-cased, a BATV tag (prvs=TAG=local@) removed, since it
 * changes with every message of the same sender.
 */
export function greylistSender(address: string): string {
  const a = address.toLowerCase();
  const m = /^(?:prvs|msprvs1|btv1)=[^=@]+=([^@]+@.+)$/.exec(a);
  return m ? m[1]! : a;
}

export function createGreylistFilter(deps: GreylistDeps = {}): Filter {
  const metrics = deps.metrics ?? defenceMetrics();
  const now = deps.now ?? (() => new Date());
  let lastPrune = Date.now();
  // Prune with the longest lifetimes any tenant asked for, so no tenant loses entries early.
  const longest = { triplet: 0, client: 0 };

  const prune = (store: GreylistStore, at: Date, log: Parameters<Filter["check"]>[0]["log"]) => {
    if (at.getTime() - lastPrune < PRUNE_EVERY_MS) return;
    lastPrune = at.getTime();
    const t = new Date(at.getTime() - longest.triplet * 1000);
    const c = new Date(at.getTime() - longest.client * 1000);
    store.pruneGreylist(t, c).then(
      (n) => n && log.info({ removed: n }, "greylist: expired entries removed"),
      (err: Error) => log.warn({ err: err.message }, "greylist: pruning failed"),
    );
  };

  return {
    name: "greylist",
    group: "greylist",
    stages: ["rcpt"],
    priority: 9,
    enabledByDefault: false,
    parseOptions: (raw) => parseFilterOptions(greylistOptionsSchema, raw),
    async check(ctx): Promise<FilterResult> {
      const env = ctx.envelope;
      if (ctx.stage !== "rcpt") return {};
      const exempt = (why: string): FilterResult => {
        metrics.greylist.inc({ result: "exempt" });
        return { note: why };
      };
      // An offline scan or a release must not change the state (nor be deferred by it).
      if (env.ingress === "scan" || env.ingress === "release")
        return exempt(`${env.ingress}: not greylisted`);
      if (env.ingress === "submission" || env.ingress === "submissions")
        return exempt("submission port: never greylisted");
      if (env.auth) return exempt("client authenticated: not greylisted");
      const ip = parseIp(env.client.address);
      if (!ip) return exempt(`client address ${JSON.stringify(env.client.address)} is not an IP`);
      const store = deps.store?.() ?? null;
      if (!store) {
        // Only `sluice scan` without a store and shadow evaluation run without one.
        return exempt("no store: not greylisted");
      }
      const at = now();
      const sender = greylistSender(env.mailFrom?.address ?? "");
      const recipients: Record<string, RecipientResult> = {};
      for (const rc of ctx.recipients) {
        const o =
          (rc.policy.filters.greylist?.options as GreylistOptions | undefined) ??
          (ctx.options as GreylistOptions);
        longest.triplet = Math.max(longest.triplet, o.expiry_s, o.retry_window_s);
        longest.client = Math.max(longest.client, o.auto_allow_expiry_s);
        if (allowed(o).has(env.client.address)) {
          metrics.greylist.inc({ result: "exempt" });
          recipients[rc.address] = { note: `client ${env.client.address} in allow_networks` };
          continue;
        }
        const network = networkOf(ip, o.prefix_v4, o.prefix_v6);
        const triplet = `${network} ${sender || "<>"} → ${rc.address}`;
        let answer;
        try {
          answer = await store.greylist({
            tenant: rc.policy.tenant?.id ?? "",
            network,
            sender,
            recipient: rc.address,
            now: at,
            delayS: o.delay_s,
            retryWindowS: o.retry_window_s,
            expiryS: o.expiry_s,
            autoAllowAfter: o.auto_allow_after,
            autoAllowExpiryS: o.auto_allow_expiry_s,
          });
        } catch (err) {
          metrics.greylist.inc({ result: "error" });
          warnThrottled(
            ctx.log,
            "greylist store",
            { err: (err as Error).message },
            "greylist: store unavailable; mail let through",
          );
          recipients[rc.address] = {
            symbols: [{ name: "GREYLIST_ERROR", score: 0, detail: (err as Error).message }],
            note: `store unavailable, let through: ${(err as Error).message}`,
          };
          continue;
        }
        metrics.greylist.inc({ result: answer.state });
        const waited = Math.round((at.getTime() - answer.firstSeen.getTime()) / 1000);
        if (answer.state === "new" || answer.state === "early") {
          const left = Math.max(1, o.delay_s - waited);
          recipients[rc.address] = {
            symbols: [
              { name: "GREYLISTED", score: 0, detail: `${triplet}, ${answer.state}, retry in ${left} s` },
            ],
            action: {
              type: "tempfail",
              reply: {
                code: REPLIES.greylisted.code,
                enhanced: REPLIES.greylisted.enhanced,
                text: `Greylisted, please try again in ${left} seconds`,
              },
              reason: `greylisted (${answer.state} triplet ${triplet})`,
            },
            note: `${triplet}: ${answer.state === "new" ? "first seen" : `seen ${waited} s ago`}, delay ${o.delay_s} s`,
          };
        } else if (answer.state === "passed") {
          recipients[rc.address] = {
            symbols: [{ name: "GREYLIST_PASSED", score: 0, detail: `${triplet}, waited ${waited} s` }],
            headers: [
              { op: "add", name: "X-Greylist", value: `delayed ${waited} seconds by Sluice (${network})` },
            ],
            note: `${triplet}: passed after ${waited} s (client network passes: ${answer.clientPasses})`,
          };
        } else {
          recipients[rc.address] = {
            note:
              answer.state === "known"
                ? `${triplet}: known (client network passes: ${answer.clientPasses})`
                : `client network ${network} auto-allowed after ${answer.clientPasses - 1} passes`,
          };
        }
      }
      prune(store, at, ctx.log);
      return { recipients };
    },
  };
}
