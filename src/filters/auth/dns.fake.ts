// A DNS zone in memory answering in the resolver shape mailauth calls, recording every query:
// for unit and conformance tests (SPF, ARC, DKIM suites declare their zones). Never used in
// production; test/helpers/dns.ts serves zones through a real dnsmasq instead.

export type ZoneValue =
  | { type: "TXT"; value: string | string[] }
  | { type: "A" | "AAAA" | "PTR" | "CNAME"; value: string }
  | { type: "MX"; value: { priority: number; exchange: string } }
  | { type: "TIMEOUT" }
  | { type: "SERVFAIL" };

export type Zone = Record<string, ZoneValue[]>;

export interface FakeZone {
  resolve: (name: string, rrtype: string) => Promise<unknown[]>;
  queries: string[];
  zone: Zone;
}

function dnsError(code: string, name: string): Error {
  return Object.assign(new Error(`${code} ${name}`), { code, hostname: name });
}

export function fakeZone(input: Zone): FakeZone {
  const zone: Zone = {};
  for (const [name, recs] of Object.entries(input)) {
    const key = name.toLowerCase().replace(/\.$/, "");
    zone[key] = [...(zone[key] ?? []), ...recs];
  }
  const queries: string[] = [];
  const resolve = async (name: string, rrtype: string, depth = 0): Promise<unknown[]> => {
    const type = rrtype.toUpperCase();
    const key = name.toLowerCase().replace(/\.$/, "");
    queries.push(`${type} ${key}`);
    const recs = zone[key];
    if (!recs) throw dnsError("ENOTFOUND", name);
    const cname = recs.find((r) => r.type === "CNAME");
    if (cname && type !== "CNAME" && depth < 8)
      return resolve((cname as { value: string }).value, type, depth + 1);
    const hits = recs.filter((r) => r.type === type);
    // TIMEOUT/SERVFAIL answer the query types the name has no records of (as the SPF suite means it).
    if (!hits.length && recs.some((r) => r.type === "TIMEOUT")) throw dnsError("ETIMEOUT", name);
    if (!hits.length && recs.some((r) => r.type === "SERVFAIL")) throw dnsError("ESERVFAIL", name);
    if (!hits.length) throw dnsError("ENODATA", name);
    return hits.map((r) => {
      const v = (r as { value: unknown }).value;
      if (type === "TXT") return Array.isArray(v) ? v : [v];
      return v;
    });
  };
  return { resolve: (n, t) => resolve(n, t), queries, zone };
}
