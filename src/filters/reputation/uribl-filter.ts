// The `uribl` filter (DATA): the registrable domains of the body's URLs against URI lists (SURBL,
// URIBL, Spamhaus DBL), each recipient with its own tenant's zones. A hit is a symbol with its
// score, or a reject for a zone with action: reject. Lookups are shared between recipients and
// bounded per message; a list that fails or refuses is logged and ignored.
import type { Filter, FilterResult, RecipientResult } from "../../pipeline/types.ts";
import { REPLIES } from "../../message/replies.ts";
import { parseFilterOptions } from "../options.ts";
import { sharedResolver, type DnsResolver } from "../auth/dns.ts";
import { describe, listMetrics, lookupList, type ListMetrics, type ListResult } from "./lookup.ts";
import { uriblOptionsSchema, type UriblOptions, type UriZone } from "./options.ts";
import { urlNames, type UrlName } from "./url-domains.ts";

export interface UriblDeps {
  metrics?: ListMetrics;
  resolver?: (o: UriblOptions) => DnsResolver;
}

export function createUriblFilter(deps: UriblDeps = {}): Filter {
  const metrics = deps.metrics ?? listMetrics();
  const resolverFor =
    deps.resolver ??
    ((o: UriblOptions) => sharedResolver({ servers: o.dns.servers, timeoutMs: o.dns.timeout_ms }));
  return {
    name: "uribl",
    group: "uribl",
    stages: ["data"],
    priority: 40,
    enabledByDefault: false,
    parseOptions: (raw) => parseFilterOptions(uriblOptionsSchema, raw),
    async check(ctx): Promise<FilterResult> {
      const tx = ctx.tx;
      if (ctx.stage !== "data" || !tx?.spool) return {};
      const mime = await tx.mime();
      const texts = [mime.text, mime.html ?? ""];
      // One lookup per (name, zone) for the whole message, whatever the recipients.
      const asked = new Map<string, Promise<ListResult>>();
      const recipients: Record<string, RecipientResult> = {};
      // Recipients of one tenant share their options object: the body is read once per tenant.
      const namesOf = new Map<UriblOptions, UrlName[]>();
      for (const rc of ctx.recipients) {
        const o =
          (rc.policy.filters.uribl?.options as UriblOptions | undefined) ?? (ctx.options as UriblOptions);
        let names = namesOf.get(o);
        if (!names) {
          names = urlNames(texts, o.max_domains, new Set(o.skip_domains)).filter((n) => o.ip_hosts || !n.ip);
          namesOf.set(o, names);
        }
        const r = resolverFor(o);
        const pairs: [UrlName, UriZone][] = o.zones.flatMap((z) =>
          names.map((n): [UrlName, UriZone] => [n, z]),
        );
        const results = await Promise.all(
          pairs.map(([n, z]) => {
            const key = `${o.dns.servers.join(",")} ${n.label}.${z.zone}`;
            let p = asked.get(key);
            if (!p) asked.set(key, (p = lookupList(r, n.label, z, metrics, ctx.log)));
            return p;
          }),
        );
        recipients[rc.address] = resultFor(pairs, results, names.length);
      }
      return { recipients };
    },
  };
}

function resultFor(pairs: [UrlName, UriZone][], results: ListResult[], names: number): RecipientResult {
  const out: RecipientResult = { symbols: [] };
  const seen = new Set<string>();
  const notes: string[] = [];
  const failed: string[] = [];
  results.forEach((res, i) => {
    const [n, z] = pairs[i]!;
    if (res.status !== "listed") {
      if (res.status !== "clean") failed.push(describe(res));
      return;
    }
    for (const h of res.hits) {
      notes.push(
        `${res.zone} answered ${h.code} for ${n.label} → ${h.symbol} ${h.score >= 0 ? "+" : ""}${h.score}`,
      );
      if (seen.has(h.symbol)) continue;
      seen.add(h.symbol);
      out.symbols!.push({
        name: h.symbol,
        score: h.score,
        detail: `${describe(res, h)} (URL host ${n.host})`,
      });
    }
    if (z.type === "block" && z.action === "reject" && !out.action) {
      out.action = {
        type: "reject",
        reply: {
          code: REPLIES.uriListed.code,
          enhanced: REPLIES.uriListed.enhanced,
          text: `Message rejected: it links to ${n.label}, listed by ${z.zone}${res.reason ? ` (${res.reason})` : ""}`,
        },
        reason: `${n.label} listed by ${z.zone} (${res.answer.join(", ")})`,
      };
    }
  });
  const checked = `${names} URL domain${names === 1 ? "" : "s"} checked`;
  out.note = [checked, ...notes, ...failed.slice(0, 5)].join("; ");
  return out;
}
