// The shared DNS resolver's cache and failure handling: TTLs (answer, default, cap, negative),
// the LRU bound, in-flight sharing, temporary errors never cached, and the hard timeout.
// The wire is replaced by a counting stub; the clock is injected.
import { describe, expect, it } from "vitest";
import { DnsError, DnsResolver, type DnsOptions } from "./dns.ts";

type Answer = { value: unknown[]; ttlS: number } | { code: string } | "hang";

function stubbed(answers: Record<string, Answer>, opts: DnsOptions = {}) {
  let now = 1_000_000;
  const asked: string[] = [];
  const r = new DnsResolver({ now: () => now, ...opts });
  (r as unknown as { ask: (n: string, t: string) => Promise<unknown> }).ask = async (name, type) => {
    asked.push(`${type} ${name}`);
    const a = answers[`${type} ${name.toLowerCase()}`] ?? { code: "ENOTFOUND" };
    if (a === "hang") return new Promise(() => {});
    if ("code" in a) throw Object.assign(new Error(a.code), { code: a.code });
    return a;
  };
  return { r, asked, advance: (ms: number) => (now += ms) };
}

describe("DnsResolver cache", () => {
  it("keeps an answer for its TTL, then asks again", async () => {
    const { r, asked, advance } = stubbed({ "A a.example": { value: ["192.0.2.1"], ttlS: 30 } });
    expect(await r.resolve("a.example", "A")).toEqual(["192.0.2.1"]);
    advance(29_000);
    expect(await r.resolve("A.Example.", "a")).toEqual(["192.0.2.1"]); // same entry: case, dot, type
    expect(asked).toHaveLength(1);
    advance(1_000);
    await r.resolve("a.example", "A");
    expect(asked).toHaveLength(2);
    expect(r.stats).toMatchObject({ queries: 3, hits: 1, misses: 2 });
  });

  it("caps every TTL at maxTtlS", async () => {
    const { r, asked, advance } = stubbed(
      { "A a.example": { value: ["192.0.2.1"], ttlS: 86_400 } },
      { maxTtlS: 60 },
    );
    await r.resolve("a.example", "A");
    advance(59_999);
    await r.resolve("a.example", "A");
    expect(asked).toHaveLength(1);
    advance(1);
    await r.resolve("a.example", "A");
    expect(asked).toHaveLength(2);
  });

  it("does not cache a zero TTL", async () => {
    const { r, asked } = stubbed({ "A a.example": { value: ["192.0.2.1"], ttlS: 0 } });
    await r.resolve("a.example", "A");
    await r.resolve("a.example", "A");
    expect(asked).toHaveLength(2);
  });

  it("caches NXDOMAIN / NODATA for negativeTtlS and rethrows them with their code", async () => {
    const { r, asked, advance } = stubbed(
      { "TXT nodata.example": { code: "ENODATA" } },
      { negativeTtlS: 10 },
    );
    for (const name of ["missing.example", "nodata.example"]) {
      const err = await r.resolve(name, "TXT").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DnsError);
      await expect(r.resolve(name, "TXT")).rejects.toMatchObject({ code: (err as DnsError).code });
    }
    expect(asked).toEqual(["TXT missing.example", "TXT nodata.example"]);
    advance(10_000);
    await r.resolve("missing.example", "TXT").catch(() => {});
    expect(asked).toHaveLength(3);
  });

  it("never caches temporary failures, and maps unknown codes onto ETIMEOUT", async () => {
    const { r, asked } = stubbed({
      "TXT flaky.example": { code: "ESERVFAIL" },
      "TXT odd.example": { code: "EBADRESP" },
    });
    await expect(r.resolve("flaky.example", "TXT")).rejects.toMatchObject({ code: "ESERVFAIL" });
    await expect(r.resolve("flaky.example", "TXT")).rejects.toMatchObject({ code: "ESERVFAIL" });
    await expect(r.resolve("odd.example", "TXT")).rejects.toMatchObject({ code: "ETIMEOUT" });
    expect(asked).toHaveLength(3);
    expect(r.stats.failures).toBe(3);
    expect(r.stats.size).toBe(0);
  });

  it("is bounded: the least recently used entry goes first", async () => {
    const answers: Record<string, Answer> = {};
    for (const n of ["a", "b", "c"]) answers[`TXT ${n}.example`] = { value: [[n]], ttlS: 300 };
    const { r, asked } = stubbed(answers, { cacheSize: 2 });
    await r.resolve("a.example", "TXT");
    await r.resolve("b.example", "TXT");
    await r.resolve("a.example", "TXT"); // a is now the most recent
    await r.resolve("c.example", "TXT"); // evicts b
    expect(r.stats.size).toBe(2);
    asked.length = 0;
    await r.resolve("a.example", "TXT");
    await r.resolve("c.example", "TXT");
    expect(asked).toEqual([]);
    await r.resolve("b.example", "TXT");
    expect(asked).toEqual(["TXT b.example"]);
    expect(r.stats.size).toBe(2);
  });

  it("shares one query among concurrent askers", async () => {
    const { r, asked } = stubbed({
      "MX m.example": { value: [{ exchange: "mx.m.example", priority: 10 }], ttlS: 60 },
    });
    const all = await Promise.all([
      r.resolve("m.example", "MX"),
      r.resolve("m.example", "MX"),
      r.resolve("M.example", "MX"),
    ]);
    expect(all[0]).toEqual(all[2]);
    expect(asked).toHaveLength(1);
  });

  it("gives up on a stuck query after its own hard timeout (temperror, not a hung session)", async () => {
    const { r } = stubbed({ "TXT stuck.example": "hang" }, { timeoutMs: 100, tries: 1 });
    const t0 = Date.now();
    await expect(r.resolve("stuck.example", "TXT")).rejects.toMatchObject({ code: "ETIMEOUT" });
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(300);
    expect(took).toBeLessThan(2000);
  });

  it("caps queries in flight: the rest wait their turn, and past maxQueued fail at once (never cached)", async () => {
    let open = 0;
    let peak = 0;
    const r = new DnsResolver({ maxInflight: 2, maxQueued: 3 });
    (r as unknown as { ask: (n: string, t: string) => Promise<unknown> }).ask = async (name) => {
      open++;
      peak = Math.max(peak, open);
      await new Promise((res) => setTimeout(res, 20));
      open--;
      return { value: [name], ttlS: 60 };
    };
    const names = ["a", "b", "c", "d", "e", "f", "g"].map((n) => `${n}.example`);
    const results = await Promise.allSettled(names.map((n) => r.resolve(n, "A")));
    expect(peak).toBe(2);
    // 2 on the wire, 3 waiting, 2 refused.
    expect(results.filter((x) => x.status === "fulfilled")).toHaveLength(5);
    const refused = results.filter((x) => x.status === "rejected") as PromiseRejectedResult[];
    expect(refused.map((x) => (x.reason as DnsError).message)).toEqual([
      expect.stringMatching(/^EBUSY A f\.example/),
      expect.stringMatching(/^EBUSY A g\.example/),
    ]);
    expect(r.stats).toMatchObject({ busy: 2, active: 0, queued: 0 });
    expect(await r.resolve("f.example", "A")).toEqual(["f.example"]);
  });
});
