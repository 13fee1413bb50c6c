// Quarantine digests through a real next hop (smtp-sink): one mail per user in the tenant's
// language listing new entries, sent on the tenant's interval; its signed links release once
// without a login and refuse expired, reused, tampered and foreign tokens.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import pino from "pino";
import { simpleParser } from "mailparser";
import { Runtime } from "../../src/runtime.ts";
import { emptyEnvelope } from "../../src/message/envelope.ts";
import {
  LinkKeys,
  linkKeys,
  redeemLink,
  verifyDigestLink,
  verifyHoldLink,
} from "../../src/quarantine/index.ts";
import { runDigests } from "../../src/quarantine/digest.ts";
import { routesFor } from "../../src/quarantine/release.ts";
import { haveTool } from "../helpers/require-tool.ts";
import { startSink, SMTP_SINK, type Sink } from "../helpers/smtp-sink.ts";

const enabled = haveTool(SMTP_SINK, "postfix");
const SECRET = "0123456789abcdef0123456789abcdef";

describe("digest links (pure)", () => {
  const at = new Date("2025-01-06T10:00:00Z");
  const exp = new Date(at.getTime() + 3_600_000);
  const keys = new LinkKeys(SECRET);
  it("verifies a valid token and refuses expired, tampered and wrong-key ones", () => {
    const t = keys.sign("release", "Q1", "Alice@Example.com", "example", exp);
    expect(verifyDigestLink(keys, t, at)).toEqual({
      kind: "release",
      quarantineId: "Q1",
      recipient: "alice@example.com",
      tenant: "example",
    });
    expect(verifyDigestLink(keys, t, new Date(exp.getTime() + 1000))).toBeNull();
    expect(verifyDigestLink(new LinkKeys("another-secret-another-secret-xx"), t, at)).toBeNull();
    const [body, sig] = t.split(".") as [string, string];
    const forge = (change: (p: Record<string, unknown>) => void) => {
      const p = JSON.parse(Buffer.from(body, "base64url").toString());
      change(p);
      return `${Buffer.from(JSON.stringify(p)).toString("base64url")}.${sig}`;
    };
    expect(
      verifyDigestLink(
        keys,
        forge((p) => (p.id = "Q2")),
        at,
      ),
    ).toBeNull();
    // A link names its tenant: moved to another tenant it is not valid there.
    expect(
      verifyDigestLink(
        keys,
        forge((p) => (p.t = "globex")),
        at,
      ),
    ).toBeNull();
    expect(
      verifyDigestLink(
        keys,
        forge((p) => (p.v = 1)),
        at,
      ),
    ).toBeNull();
    const flipped = sig.slice(0, -2) + (sig.at(-2) === "A" ? "B" : "A") + sig.at(-1);
    expect(verifyDigestLink(keys, `${body}.${flipped}`, at)).toBeNull();
    expect(verifyDigestLink(keys, "garbage", at)).toBeNull();
    // A hold link is not a digest link, and the other way round.
    expect(verifyDigestLink(keys, keys.sign("send", "H1", "a@example.com", "example", exp), at)).toBeNull();
    expect(verifyHoldLink(keys, t, at)).toBeNull();
  });

  it("signs per tenant and rotates: the previous generation still works, the one before does not", () => {
    let generation = 0;
    const rotating = new LinkKeys(SECRET, (t) => (t === "acme" ? generation : 0));
    const acme = rotating.sign("view", "Q1", "a@acme.test", "acme", exp);
    const globex = rotating.sign("view", "Q2", "g@globex.test", "globex", exp);
    // Different tenants, different keys: the signatures differ for the same payload shape.
    expect(acme.split(".")[1]).not.toBe(globex.split(".")[1]);
    generation = 1;
    expect(verifyDigestLink(rotating, acme, at)?.quarantineId).toBe("Q1");
    const fresh = rotating.sign("view", "Q1", "a@acme.test", "acme", exp);
    generation = 2;
    expect(verifyDigestLink(rotating, acme, at)).toBeNull();
    expect(verifyDigestLink(rotating, fresh, at)?.quarantineId).toBe("Q1");
    // Another tenant's links are untouched by acme's rotation.
    expect(verifyDigestLink(rotating, globex, at)?.quarantineId).toBe("Q2");
  });
});

describe.skipIf(!enabled)("quarantine digests (smtp-sink)", () => {
  let sink: Sink;
  let rt: Runtime;
  beforeAll(async () => {
    sink = await startSink();
    const dir = mkdtempSync(join(tmpdir(), "sluice-digest-"));
    rt = await Runtime.create({
      logger: pino({ level: "silent" }),
      configText: `
node: { link_secret: "${SECRET}" }
store: sqlite:${dir}/store.db
delivery: smtp://127.0.0.1:${sink.port}
log: { level: silent }
tenants:
  - id: example
    domains: [example.com]
    language: ja
    quarantine:
      digest:
        enabled: true
        interval_minutes: 60
        link_base: "https://console.example.com/q/link"
        link_ttl_hours: 2
        templates:
          en: { subject: "{count} held for {recipient}", body: "Held:\\n{items}" }
    users:
      - { address: alice@example.com, language: en }
      - { address: bob@example.com }
`,
    });
    for (const [id, rcpts, symbols] of [
      ["D1", ["alice@example.com", "bob@example.com"], []],
      ["D2", ["alice@example.com"], []],
      ["D3", ["alice@example.com"], [{ name: "CLAMAV_VIRUS", score: 0, detail: "Eicar-Signature" }]],
    ] as const) {
      const env = emptyEnvelope("inbound");
      env.mailFrom = { address: "promo@x.org", params: {} };
      await rt.store!.putQuarantine({
        id,
        tenant: "example",
        envelope: env,
        score: 11,
        symbols: [...symbols],
        subject: `offer ${id}`,
        message: Buffer.from(`Subject: offer ${id}\r\n\r\nbody ${id}\r\n`),
        recipients: rcpts.map((address) => ({ address, reason: "spam" })),
      });
    }
  });
  afterAll(async () => {
    await rt?.close();
    await sink.stop();
  });

  const lastTo = async (addr: string) => {
    for (const m of sink.messages().reverse()) {
      const p = await simpleParser(Buffer.from(m));
      if (p.to && JSON.stringify(p.to).includes(addr) && p.headers.get("auto-submitted")) return p;
    }
    return null;
  };

  it("sends one digest per user in their language, once per interval, with links that release once", async () => {
    const before = sink.messages().length;
    const now = new Date(Date.now() + 1000);
    const [res] = await runDigests(rt, routesFor(rt), { now });
    expect(res?.sent.sort()).toEqual(["alice@example.com", "bob@example.com"]);
    expect(sink.messages().length).toBe(before + 2);
    // Within the interval nothing more goes out.
    expect(await runDigests(rt, routesFor(rt), { now: new Date(now.getTime() + 60_000) })).toEqual([]);

    const alice = await lastTo("alice@example.com");
    expect(alice?.subject).toBe("3 held for alice@example.com");
    expect(alice?.text).toContain("offer D1");
    expect(alice?.text).toContain("offer D2");
    // A copy with a virus is listed without a release link (only an administrator may release it).
    expect(alice?.text).toMatch(/offer D3\s+Release: \(only your administrator can release this message\)/);
    const bob = await lastTo("bob@example.com");
    expect(bob?.subject).toBe("隔離メールのお知らせ: 新着 1 件");
    expect(bob?.text).toContain("取り出す: https://console.example.com/q/link?t=");
    expect(bob?.text).not.toContain("offer D2");

    const tokens = [...(alice?.text ?? "").matchAll(/Release: \S+\?t=(\S+)/g)].map((m) => m[1]!);
    expect(tokens.length).toBe(2);
    const keys = linkKeys(rt.config)!;
    expect(tokens.map((t) => verifyDigestLink(keys, t)?.quarantineId).sort()).toEqual(["D1", "D2"]);
    const d1 = tokens.find((t) => verifyDigestLink(keys, t)?.quarantineId === "D1")!;
    // Valid: released to alice only.
    expect(await redeemLink(rt, d1)).toMatchObject({
      kind: "release",
      status: "released",
      recipient: "alice@example.com",
    });
    const released = sink.messages().filter((m) => m.includes("body D1"));
    expect(released.length).toBe(1);
    expect(released[0]).toMatch(/X-Rcpt-Args: <?alice@example\.com/i);
    // Reused: nothing more.
    expect(await redeemLink(rt, d1)).toMatchObject({ status: "used" });
    expect(sink.messages().filter((m) => m.includes("body D1")).length).toBe(1);
    // Tampered (recipient swapped to bob): refused.
    const [body, sig] = d1.split(".") as [string, string];
    const p = JSON.parse(Buffer.from(body, "base64url").toString());
    p.r = "bob@example.com";
    expect(await redeemLink(rt, `${Buffer.from(JSON.stringify(p)).toString("base64url")}.${sig}`)).toBeNull();
    // Expired: the TTL is 2 hours.
    const d2 = tokens.find((t) => t !== d1)!;
    expect(await redeemLink(rt, d2, { now: new Date(Date.now() + 3 * 3_600_000) })).toBeNull();
    expect((await rt.store!.getQuarantine("D2"))?.recipients[0]?.state).toBe("quarantined");
    expect((await rt.store!.getQuarantine("D1"))?.recipients.map((r) => r.state)).toEqual([
      "released",
      "quarantined",
    ]);
  });

  it("a well-signed release link for a virus copy is refused, as the console refuses the user", async () => {
    const keys = linkKeys(rt.config)!;
    const exp = new Date(Date.now() + 3_600_000);
    const t = keys.sign("release", "D3", "alice@example.com", "example", exp);
    expect(await redeemLink(rt, t)).toMatchObject({ kind: "release", status: "refused" });
    expect((await rt.store!.getQuarantine("D3"))?.recipients[0]?.state).toBe("quarantined");
    expect(sink.messages().some((m) => m.includes("body D3"))).toBe(false);
  });

  it("links are bound to the entry's tenant and recipient", async () => {
    const keys = linkKeys(rt.config)!;
    const exp = new Date(Date.now() + 3_600_000);
    // Signed for another tenant, or for someone who is not a recipient of D2: not valid.
    expect(await redeemLink(rt, keys.sign("view", "D2", "alice@example.com", "other", exp))).toBeNull();
    expect(await redeemLink(rt, keys.sign("view", "D2", "bob@example.com", "example", exp))).toBeNull();
    expect(await redeemLink(rt, keys.sign("release", "D2", "bob@example.com", "example", exp))).toBeNull();
    expect(await redeemLink(rt, keys.sign("view", "D2", "alice@example.com", "example", exp))).toMatchObject({
      kind: "view",
      quarantineId: "D2",
    });
  });
});
