// DMARC cases of our own (no public suite): alignment, p/sp/t, the tenant's action and the
// trusted-forwarder / trusted-ARC-sealer overrides, end to end from a message and a zone.
import { describe, expect, it } from "vitest";
import { parseHeaderSection } from "../../message/headers.ts";
import { fakeZone, type Zone } from "./dns.fake.ts";
import { generateDkimKey } from "./keygen.ts";
import { authOptionsSchema } from "./options.ts";
import { dmarcDecision, resultSymbols } from "./outcome.ts";
import { signMessage } from "./sign.ts";
import { verifyMessage, type AuthOutcome } from "./verify.ts";

const key = generateDkimKey("ed25519");
const body = (from: string) =>
  Buffer.from(
    `From: Alice <alice@${from}>\r\nTo: bob@example.net\r\nSubject: hi\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <1@x>\r\n\r\nHello\r\n`,
  );

async function signed(from: string, d: string): Promise<Buffer> {
  const msg = body(from);
  const sig = await signMessage(msg, { domain: d, selector: "s1", privateKeyPem: key.privatePem });
  return Buffer.concat([Buffer.from(`DKIM-Signature: ${sig}\r\n`), msg]);
}

async function run(message: Buffer, zone: Zone, mailFrom = "", ip = "192.0.2.10"): Promise<AuthOutcome> {
  return verifyMessage({
    message,
    headers: parseHeaderSection(message.subarray(0, message.indexOf("\r\n\r\n") + 2)),
    ip,
    helo: "mail.sender.example",
    mailFrom,
    mta: "mx.test",
    resolver: fakeZone(zone).resolve,
    senderId: false,
    spfHelo: false,
    minKeyBits: 1024,
  });
}

const opts = (o: Record<string, unknown> = {}) => authOptionsSchema.parse(o);
const client = { client: { address: "192.0.2.10", name: "mail.sender.example" } };
const names = (o: AuthOutcome) => resultSymbols(o, false).map((s) => s.name);

const BASE: Zone = {
  "s1._domainkey.bank.example": [{ type: "TXT", value: key.dnsTxt }],
  "s1._domainkey.mail.bank.example": [{ type: "TXT", value: key.dnsTxt }],
  "s1._domainkey.evil.example": [{ type: "TXT", value: key.dnsTxt }],
  "_dmarc.bank.example": [{ type: "TXT", value: "v=DMARC1; p=reject; sp=quarantine" }],
  "bank.example": [{ type: "TXT", value: "v=spf1 ip4:198.51.100.0/24 -all" }],
};

describe("DMARC", () => {
  it("passes with an aligned DKIM signature", async () => {
    const o = await run(await signed("bank.example", "bank.example"), BASE);
    expect(o.dmarc.result).toBe("pass");
    expect(names(o)).toContain("DMARC_PASS");
    expect(dmarcDecision(o, opts(), client).action).toBeUndefined();
  });

  it("passes with relaxed alignment of a subdomain signature, fails under adkim=s", async () => {
    const msg = await signed("bank.example", "mail.bank.example");
    expect((await run(msg, BASE)).dmarc.result).toBe("pass");
    const strict = {
      ...BASE,
      "_dmarc.bank.example": [{ type: "TXT" as const, value: "v=DMARC1; p=reject; adkim=s" }],
    };
    expect((await run(msg, strict)).dmarc.result).toBe("fail");
    const exact = await run(await signed("bank.example", "bank.example"), strict);
    expect(exact.dmarc.result).toBe("pass");
  });

  it("enforces aspf=s against a subdomain MAIL FROM", async () => {
    const zone: Zone = {
      ...BASE,
      "bounce.bank.example": [{ type: "TXT", value: "v=spf1 ip4:198.51.100.0/24 -all" }],
    };
    const msg = body("bank.example");
    expect((await run(msg, zone, "x@bounce.bank.example", "198.51.100.7")).dmarc.result).toBe("pass");
    const strict = {
      ...zone,
      "_dmarc.bank.example": [{ type: "TXT" as const, value: "v=DMARC1; p=reject; aspf=s" }],
    };
    expect((await run(msg, strict, "x@bounce.bank.example", "198.51.100.7")).dmarc.result).toBe("fail");
  });

  it("passes with aligned SPF only", async () => {
    const o = await run(body("bank.example"), BASE, "bounce@bank.example", "198.51.100.7");
    expect(o.spfMailFrom.result).toBe("pass");
    expect(o.dkim).toEqual([]);
    expect(o.dmarc.result).toBe("pass");
  });

  it("rejects a forged From under p=reject with 550 5.7.1", async () => {
    const o = await run(await signed("bank.example", "evil.example"), BASE, "x@evil.example");
    expect(o.dmarc).toMatchObject({ result: "fail", policy: "reject", fromDomain: "bank.example" });
    const d = dmarcDecision(o, opts(), client);
    expect(d.symbols.map((s) => s.name)).toEqual(["DMARC_POLICY_REJECT"]);
    expect(d.action).toMatchObject({ type: "reject", reply: { code: 550, enhanced: "5.7.1" } });
  });

  it("applies the tenant's dmarc_reject_action", async () => {
    const o = await run(await signed("bank.example", "evil.example"), BASE);
    expect(dmarcDecision(o, opts({ dmarc_reject_action: "quarantine" }), client).action?.type).toBe(
      "quarantine",
    );
    expect(dmarcDecision(o, opts({ dmarc_reject_action: "tag" }), client).action?.type).toBe("tag-subject");
  });

  it("uses sp= for a subdomain without its own record", async () => {
    const o = await run(await signed("shop.bank.example", "evil.example"), BASE);
    expect(o.dmarc).toMatchObject({ result: "fail", policy: "quarantine" });
    expect(dmarcDecision(o, opts(), client).action?.type).toBe("quarantine");
  });

  it("pct= is historic (RFC 9989): every failing message gets the policy; t=y weakens it", async () => {
    const sampled = {
      ...BASE,
      "_dmarc.bank.example": [{ type: "TXT" as const, value: "v=DMARC1; p=reject; pct=20" }],
    };
    const o = await run(await signed("bank.example", "evil.example"), sampled);
    expect(dmarcDecision(o, opts(), client).action?.type).toBe("reject");
    const testing = {
      ...BASE,
      "_dmarc.bank.example": [{ type: "TXT" as const, value: "v=DMARC1; p=reject; t=y" }],
    };
    const t = await run(await signed("bank.example", "evil.example"), testing);
    expect(t.dmarc).toMatchObject({ policy: "quarantine", testing: true });
    const out = dmarcDecision(t, opts(), client);
    expect(out.symbols.map((s) => s.name)).toEqual(["DMARC_POLICY_TESTING", "DMARC_POLICY_QUARANTINE"]);
    expect(out.action?.type).toBe("quarantine");
  });

  it("p=none only reports", async () => {
    const zone = { ...BASE, "_dmarc.bank.example": [{ type: "TXT" as const, value: "v=DMARC1; p=none" }] };
    const d = dmarcDecision(await run(await signed("bank.example", "evil.example"), zone), opts(), client);
    expect(d).toEqual({ symbols: [expect.objectContaining({ name: "DMARC_POLICY_NONE" })] });
  });

  it("forgives trusted forwarders by CIDR and by host name suffix", async () => {
    const o = await run(await signed("bank.example", "evil.example"), BASE);
    for (const t of ["192.0.2.0/24", ".sender.example", "192.0.2.10"]) {
      const d = dmarcDecision(o, opts({ trusted_forwarders: [t] }), client);
      expect(d.action, t).toBeUndefined();
      expect(d.symbols.map((s) => s.name)).toContain("DMARC_OVERRIDE_FORWARDER");
    }
    expect(
      dmarcDecision(o, opts({ trusted_forwarders: ["192.0.3.0/24", "other.example"] }), client).action?.type,
    ).toBe("reject");
  });

  it("is temperror when the DMARC lookup fails, and none without a record", async () => {
    const msg = await signed("bank.example", "evil.example");
    const down = { ...BASE, "_dmarc.bank.example": [{ type: "SERVFAIL" as const }] };
    const o = await run(msg, down);
    expect(o.dmarc.result).toBe("temperror");
    expect(names(o)).toContain("DMARC_TEMPERROR");
    expect(dmarcDecision(o, opts(), client).action).toBeUndefined();
    const { ["_dmarc.bank.example"]: _gone, ...none } = BASE;
    expect((await run(msg, none)).dmarc.result).toBe("none");
  });

  it("is permerror for several From domains", async () => {
    const msg = Buffer.from("From: a@bank.example, b@evil.example\r\nSubject: x\r\n\r\nx\r\n");
    expect((await run(msg, BASE)).dmarc.result).toBe("permerror");
  });
});

describe("trusted ARC sealer override", () => {
  const hop = (sealer: string, dmarc: string | null) => ({ instance: 1, sealer, dmarc });
  const failing = async (arc: AuthOutcome["arc"]) => ({
    ...(await run(await signed("bank.example", "evil.example"), BASE)),
    arc,
  });
  it("overrides when the newest sealer is trusted and vouched dmarc=pass", async () => {
    const o = await failing({
      result: "pass",
      instance: 1,
      hops: [hop("lists.example", "pass")],
      comment: "",
    });
    const d = dmarcDecision(o, opts({ trusted_arc_sealers: ["lists.example"] }), client);
    expect(d.action).toBeUndefined();
    expect(d.symbols.map((s) => s.name)).toContain("DMARC_OVERRIDE_ARC");
  });
  it("does not override for an untrusted sealer, a failed chain, or no dmarc=pass", async () => {
    const t = opts({ trusted_arc_sealers: ["lists.example"] });
    const cases: AuthOutcome["arc"][] = [
      { result: "pass", instance: 1, hops: [hop("other.example", "pass")], comment: "" },
      { result: "fail", instance: 1, hops: [hop("lists.example", "pass")], comment: "" },
      { result: "pass", instance: 1, hops: [hop("lists.example", "fail")], comment: "" },
    ];
    for (const arc of cases) expect(dmarcDecision(await failing(arc), t, client).action?.type).toBe("reject");
  });
});
