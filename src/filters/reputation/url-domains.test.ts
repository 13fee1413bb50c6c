// URL hosts → the names URI lists are asked about: registrable domains by the Public Suffix List,
// IDNs as A-labels, IPv4 hosts reversed, bounded; property tests over arbitrary bodies.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { nameOf, urlNames } from "./url-domains.ts";

describe("URL names", () => {
  it("reduces hosts to registrable domains, IDNs to A-labels, IPs to reversed octets", () => {
    const body = `see http://www.spam.example.co.uk/x?y, https://user:pw@Bücher.de/ www.evil.test.
      <a href="https://a.b.c.blogspot.com/">x</a> http://192.0.2.1:8080/ ftp://x.y.example.org http://com/`;
    expect(urlNames([body], 20).map((n) => n.label)).toEqual([
      "example.co.uk",
      "xn--bcher-kva.de",
      "evil.test",
      "blogspot.com",
      "1.2.0.192",
      "example.org",
    ]);
    expect(nameOf("co.uk")).toBeNull();
    expect(nameOf("")).toBeNull();
    expect(urlNames([body], 2).map((n) => n.label)).toEqual(["example.co.uk", "xn--bcher-kva.de"]);
    expect(urlNames([body], 20, new Set(["example.co.uk"]))[0]!.label).toBe("xn--bcher-kva.de");
  });

  it("never throws, stays within max, and yields only DNS-safe labels (property)", () => {
    const host = fc.oneof(fc.domain(), fc.ipV4(), fc.string({ maxLength: 40 }), fc.webUrl());
    const body = fc.array(
      fc.oneof(
        host.map((h) => `http://${h}/`),
        host.map((h) => `www.${h}`),
        fc.string({ unit: "binary", maxLength: 80 }),
      ),
      { maxLength: 60 },
    );
    fc.assert(
      fc.property(body, fc.integer({ min: 1, max: 30 }), (parts, max) => {
        const names = urlNames([parts.join(" ")], max);
        expect(names.length).toBeLessThanOrEqual(max);
        expect(new Set(names.map((n) => n.label)).size).toBe(names.length);
        for (const n of names) expect(n.label).toMatch(/^[a-z0-9_.-]{1,253}$/);
      }),
    );
  });
});
