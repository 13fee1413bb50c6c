// The `dnsbl` filter: the client address against DNS block and allow lists (DNSBL, DNSWL). At
// connect it starts the lookups of the connection-level zones (the answers are cached while the
// client is greeted); at RCPT each recipient gets the symbols of its own tenant's zones, a reject
// from a zone with action: reject, and skipped groups (greylisting) from an allow-list hit.
import type { Filter, FilterResult, RecipientResult } from "../../pipeline/types.ts";
import { REPLIES } from "../../message/replies.ts";
import { parseFilterOptions } from "../options.ts";
import { sharedResolver, type DnsResolver } from "../auth/dns.ts";
import { NetworkList, parseIp, reverseName, type ParsedIp } from "./ip.ts";
import { describe, isCached, listMetrics, lookupList, type ListMetrics, type ListResult } from "./lookup.ts";
import { dnsblOptionsSchema, type ClientZone, type DnsblOptions } from "./options.ts";

export interface DnsblDeps {
  metrics?: ListMetrics;
  /** Default: the process's shared resolver for the options' servers and timeout. */
  resolver?: (o: DnsblOptions) => DnsResolver;
}

const exemptLists = new WeakMap<DnsblOptions, NetworkList>();
function exempt(o: DnsblOptions): NetworkList {
  let l = exemptLists.get(o);
  if (!l) exemptLists.set(o, (l = new NetworkList(o.exempt_networks)));
  return l;
}

/** Zones this client can be asked about (IPv6 only where the zone answers nibble queries). */
function zonesFor(o: DnsblOptions, ip: ParsedIp): ClientZone[] {
  return o.zones.filter((z) => ip.family === 4 || z.ipv6);
}

export function createDnsblFilter(deps: DnsblDeps = {}): Filter {
  const metrics = deps.metrics ?? listMetrics();
  const resolverFor =
    deps.resolver ??
    ((o: DnsblOptions) => sharedResolver({ servers: o.dns.servers, timeoutMs: o.dns.timeout_ms }));
  return {
    name: "dnsbl",
    group: "dnsbl",
    stages: ["connect", "rcpt"],
    priority: 3,
    enabledByDefault: false,
    parseOptions: (raw) => parseFilterOptions(dnsblOptionsSchema, raw),
    async check(ctx): Promise<FilterResult> {
      const env = ctx.envelope;
      const ip = parseIp(env.client.address);
      if (!ip) return {};
      const label = reverseName(ip);
      if (ctx.stage === "connect") {
        // Warm the cache while the client is greeted; submission clients authenticate instead.
        const o = ctx.options as DnsblOptions;
        if (
          env.ingress === "submission" ||
          env.ingress === "submissions" ||
          exempt(o).has(env.client.address)
        )
          return {};
        const r = resolverFor(o);
        for (const z of zonesFor(o, ip))
          if (!isCached(r, label, z)) void lookupList(r, label, z, metrics, ctx.log);
        return {};
      }
      if (ctx.stage !== "rcpt") return {};
      const recipients: Record<string, RecipientResult> = {};
      for (const rc of ctx.recipients) {
        const o =
          (rc.policy.filters.dnsbl?.options as DnsblOptions | undefined) ?? (ctx.options as DnsblOptions);
        if (env.auth && !o.check_authenticated) {
          recipients[rc.address] = { note: "client authenticated: not looked up" };
          continue;
        }
        if (exempt(o).has(env.client.address)) {
          recipients[rc.address] = { note: `client ${env.client.address} in exempt_networks` };
          continue;
        }
        const r = resolverFor(o);
        const zones = zonesFor(o, ip);
        const results = await Promise.all(zones.map((z) => lookupList(r, label, z, metrics, ctx.log)));
        recipients[rc.address] = resultFor(env.client.address, zones, results);
      }
      return { recipients };
    },
  };
}

/** One recipient's symbols, action and skipped groups from its zones' answers. */
export function resultFor(client: string, zones: ClientZone[], results: ListResult[]): RecipientResult {
  const out: RecipientResult = { symbols: [] };
  const notes: string[] = [];
  results.forEach((res, i) => {
    const z = zones[i]!;
    if (res.status !== "listed") {
      notes.push(describe(res));
      return;
    }
    for (const h of res.hits) {
      out.symbols!.push({ name: h.symbol, score: h.score, detail: describe(res, h) });
      notes.push(`${res.zone} answered ${h.code} → ${h.symbol} ${h.score >= 0 ? "+" : ""}${h.score}`);
    }
    if (z.type === "allow") {
      const groups = z.skip ?? ["greylist"];
      out.skip = [
        ...(out.skip ?? []),
        ...groups.map((group) => ({
          group,
          reason: `${z.zone} lists the client (${res.answer.join(", ")})`,
        })),
      ];
    } else if (z.action === "reject" && !out.action) {
      out.action = {
        type: "reject",
        reply: {
          code: REPLIES.clientListed.code,
          enhanced: REPLIES.clientListed.enhanced,
          text: `Service unavailable; client host [${client}] blocked using ${z.zone}${res.reason ? `; ${res.reason}` : ""}`,
        },
        reason: `${z.zone} lists ${client} (${res.answer.join(", ")})`,
      };
    }
  });
  if (notes.length) out.note = notes.join("; ");
  return out;
}
