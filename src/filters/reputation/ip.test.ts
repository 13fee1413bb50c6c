// Client addresses: DNSBL query names, networks and CIDR lists, with property tests over every
// way an IPv6 address can be written.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { isNetwork, NetworkList, networkOf, parseIp, reverseName } from "./ip.ts";

const ip = (s: string) => parseIp(s)!;

describe("DNSBL query names", () => {
  it("reverses IPv4 octets and IPv6 nibbles (RFC 5782 2.1, 2.4)", () => {
    expect(reverseName(ip("192.0.2.99"))).toBe("99.2.0.192");
    expect(reverseName(ip("2001:db8:1:2:3:4:567:89ab"))).toBe(
      "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2",
    );
    // A v4 client seen through a dual-stack socket is asked about as IPv4.
    expect(reverseName(ip("::ffff:127.0.0.2"))).toBe("2.0.0.127");
  });

  it("refuses what is not an address", () => {
    for (const bad of ["", "1.2.3", "1.2.3.256", "2001:db8:::1", "::g", "localhost", "1.2.3.4/24", "[::1"])
      expect(parseIp(bad), bad).toBeNull();
    expect(parseIp("[2001:db8::1]")?.family).toBe(6);
    expect(parseIp("fe80::1%eth0")?.canonical).toBe("fe800000000000000000000000000001");
  });

  it("reads an IPv6 address the same however it is written", () => {
    const groups = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 });
    fc.assert(
      fc.property(groups, fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 8 }), (g, from, len) => {
        const nibbles = g.map((x) => x.toString(16).padStart(4, "0")).join("");
        const full = g.map((x) => x.toString(16)).join(":");
        // Zero a run and write it as "::".
        const z = [...g];
        const end = Math.min(8, from + len);
        for (let i = from; i < end; i++) z[i] = 0;
        const zn = z.map((x) => x.toString(16).padStart(4, "0")).join("");
        const short =
          end - from >= 1
            ? `${z
                .slice(0, from)
                .map((x) => x.toString(16))
                .join(":")}::${z
                .slice(end)
                .map((x) => x.toString(16))
                .join(":")}`
            : full;
        const p = parseIp(full)!;
        if (nibbles.startsWith("00000000000000000000ffff")) expect(p.family).toBe(4);
        else {
          expect(p.canonical).toBe(nibbles);
          expect(reverseName(p).split(".")).toHaveLength(32);
        }
        const q = parseIp(short.toUpperCase());
        expect(q).not.toBeNull();
        if (!zn.startsWith("00000000000000000000ffff")) expect(q!.canonical).toBe(zn);
      }),
    );
  });
});

describe("client networks", () => {
  it("keys a client by its /24 or /64 (or any prefix)", () => {
    expect(networkOf(ip("192.0.2.99"), 24, 64)).toBe("192.0.2.0/24");
    expect(networkOf(ip("192.0.2.99"), 32, 64)).toBe("192.0.2.99/32");
    expect(networkOf(ip("192.0.2.99"), 20, 64)).toBe("192.0.0.0/20");
    expect(networkOf(ip("2001:db8:1:2:3:4:5:6"), 24, 64)).toBe("2001:db8:1:2::/64");
    expect(networkOf(ip("2001:db8:1:2:3:4:5:6"), 24, 48)).toBe("2001:db8:1::/48");
    expect(networkOf(ip("2001:db8:1:2:3:4:5:6"), 24, 50)).toBe("2001:db8:1::/50");
    expect(networkOf(ip("2001:db8:1:c002::1"), 24, 50)).toBe("2001:db8:1:c000::/50");
    expect(networkOf(ip("::1"), 24, 128)).toBe("::1/128");
  });

  it("every address of a network has the same key", () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 8, max: 32 }), (a, bits) => {
        const key = networkOf(ip(a), bits, 64);
        const [base] = key.split("/");
        expect(networkOf(ip(base!), bits, 64)).toBe(key);
        expect(new NetworkList([key]).has(a)).toBe(true);
      }),
    );
    fc.assert(
      fc.property(fc.ipV6(), fc.integer({ min: 16, max: 128 }), (a, bits) => {
        const p = ip(a);
        if (p.family === 4) return;
        const key = networkOf(p, 24, bits);
        expect(new NetworkList([key]).has(a)).toBe(true);
      }),
    );
  });

  it("checks CIDR lists of both families", () => {
    const l = new NetworkList(["127.0.0.0/8", "2001:db8::/32", "192.0.2.7"]);
    expect(l.has("127.1.2.3")).toBe(true);
    expect(l.has("::ffff:127.0.0.1")).toBe(true);
    expect(l.has("2001:db8:5::1")).toBe(true);
    expect(l.has("2001:db9::1")).toBe(false);
    expect(l.has("192.0.2.7")).toBe(true);
    expect(l.has("192.0.2.8")).toBe(false);
    expect(l.has("not an ip")).toBe(false);
    expect(new NetworkList([]).has("127.0.0.1")).toBe(false);
    expect(isNetwork("10.0.0.0/8")).toBe(true);
    expect(isNetwork("10.0.0.0/33")).toBe(false);
    expect(isNetwork("fc00::/7")).toBe(true);
    expect(isNetwork("example.com")).toBe(false);
  });
});
