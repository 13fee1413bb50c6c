// Client addresses for the connection-level defences: the DNSBL query name (reversed octets, or
// reversed nibbles for IPv6), the network a client belongs to (/24, /64) for greylisting and rate
// limits, and CIDR lists. Pure functions: no DNS and no policy here.
import { BlockList, isIPv4, isIPv6 } from "node:net";

export interface ParsedIp {
  family: 4 | 6;
  /** IPv4: dotted quad. IPv6: 32 lower-case hex nibbles, no colons. */
  canonical: string;
}

/** An address as a front end gives it (IPv4-mapped IPv6 unwrapped, zone id dropped); null if not an IP. */
export function parseIp(input: string): ParsedIp | null {
  const t = input.trim();
  const ip = t.startsWith("[") && t.endsWith("]") ? t.slice(1, -1) : t;
  if (isIPv4(ip)) return { family: 4, canonical: ip.split(".").map(Number).join(".") };
  const bare = ip.replace(/%.*$/, "");
  if (!isIPv6(bare)) return null;
  const nibbles = ipv6Nibbles(bare);
  if (!nibbles) return null;
  // ::ffff:a.b.c.d is an IPv4 client seen through a dual-stack socket.
  if (nibbles.startsWith("00000000000000000000ffff")) {
    const v4 = nibbles.slice(24);
    return { family: 4, canonical: [0, 2, 4, 6].map((i) => parseInt(v4.slice(i, i + 2), 16)).join(".") };
  }
  return { family: 6, canonical: nibbles };
}

/** The 32 nibbles of a valid IPv6 address (with "::" and an embedded IPv4 tail), or null. */
export function ipv6Nibbles(ip: string): string | null {
  let text = ip.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    if (!isIPv4(v4[1]!)) return null;
    const o = v4[1]!.split(".").map(Number);
    const hex = (a: number, b: number) => ((a << 8) | b).toString(16);
    text = `${text.slice(0, v4.index)}${hex(o[0]!, o[1]!)}:${hex(o[2]!, o[3]!)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (all.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  return all.map((g) => g.padStart(4, "0")).join("");
}

/** The DNSBL query label of an address: 192.0.2.1 → 1.2.0.192; IPv6 → 32 reversed nibbles. */
export function reverseName(ip: ParsedIp): string {
  if (ip.family === 4) return ip.canonical.split(".").reverse().join(".");
  return [...ip.canonical].reverse().join(".");
}

/**
 * The network of an address as a key ("192.0.2.0/24", "2001:db8:0:1::/64"): clients of one
 * provider pool or one IPv6 site share greylisting passes and rate limits.
 */
export function networkOf(ip: ParsedIp, v4Prefix: number, v6Prefix: number): string {
  if (ip.family === 4) {
    const n = ip.canonical.split(".").reduce((a, o) => a * 256 + Number(o), 0);
    const bits = Math.max(0, Math.min(32, v4Prefix));
    const masked = bits === 0 ? 0 : n - (n % 2 ** (32 - bits));
    const quad = [24, 16, 8, 0].map((s) => Math.floor(masked / 2 ** s) % 256).join(".");
    return `${quad}/${bits}`;
  }
  const bits = Math.max(0, Math.min(128, v6Prefix));
  const keep = Math.floor(bits / 4);
  const rest = bits % 4;
  let nibbles = ip.canonical.slice(0, keep);
  if (rest && keep < 32) {
    const v = parseInt(ip.canonical[keep]!, 16) & ((0xf << (4 - rest)) & 0xf);
    nibbles += v.toString(16);
  }
  nibbles = nibbles.padEnd(32, "0");
  const groups = Array.from({ length: 8 }, (_, i) =>
    parseInt(nibbles.slice(i * 4, i * 4 + 4), 16).toString(16),
  );
  return `${compress(groups)}/${bits}`;
}

/** RFC 5952 text of eight groups: the longest run of two or more zero groups becomes "::". */
function compress(groups: string[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best === -1) return groups.join(":");
  return `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLen).join(":")}`;
}

/** A fixed list of networks (CIDR or single addresses), IPv4 and IPv6. */
export class NetworkList {
  private readonly list = new BlockList();
  readonly size: number;

  constructor(entries: readonly string[]) {
    for (const e of entries) {
      const [addr, len] = e.split("/");
      const ip = parseIp(addr!);
      if (!ip) throw new Error(`not an IP network: ${e}`);
      const type = ip.family === 4 ? "ipv4" : "ipv6";
      const text = ip.family === 4 ? ip.canonical : ip.canonical.replace(/(.{4})(?!$)/g, "$1:");
      if (len === undefined) this.list.addAddress(text, type);
      else this.list.addSubnet(text, Number(len), type);
    }
    this.size = entries.length;
  }

  has(address: string): boolean {
    if (this.size === 0) return false;
    const ip = parseIp(address);
    if (!ip) return false;
    return ip.family === 4
      ? this.list.check(ip.canonical, "ipv4")
      : this.list.check(ip.canonical.replace(/(.{4})(?!$)/g, "$1:"), "ipv6");
  }
}

/** A CIDR or single address, for option schemas. */
export function isNetwork(s: string): boolean {
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(s);
  if (!m) return false;
  const ip = parseIp(m[1]!);
  if (!ip) return false;
  return m[2] === undefined || Number(m[2]) <= (ip.family === 4 ? 32 : 128);
}
