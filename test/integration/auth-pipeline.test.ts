// Sender authentication end to end through the pipeline (Runtime + Session, as the SMTP proxy
// and the milter drive it), with DNS from a declared zone: a forged DMARC-reject domain is
// refused, a validly signed message gets Authentication-Results with dkim=pass.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Runtime } from "../../src/runtime.ts";
import { createAuthFilter, generateDkimKey, signMessage } from "../../src/filters/auth/index.ts";
import { fakeZone } from "../../src/filters/auth/fake-zone.ts";

const key = generateDkimKey("rsa");
const zone = fakeZone({
  "sel._domainkey.bank.example": [{ type: "TXT", value: key.dnsTxt }],
  "_dmarc.bank.example": [{ type: "TXT", value: "v=DMARC1; p=reject" }],
  "bank.example": [{ type: "TXT", value: "v=spf1 ip4:198.51.100.0/24 -all" }],
});

const CONFIG = `
store: "sqlite::memory:"
tenants:
  - id: acme
    domains: [example.net]
    users:
      - address: bob@example.net
    policy:
      filters:
        auth:
          options: { authserv_id: mx.example.net, dmarc_reject_action: reject }
`;

let runtime: Runtime;
beforeAll(async () => {
  runtime = await Runtime.create({
    configText: CONFIG,
    store: "never",
    extraFilters: [createAuthFilter({ resolver: () => zone.resolve, random: () => 0 })],
    logger: (await import("pino")).default({ level: "silent" }),
  });
});
afterAll(async () => runtime?.close());

function message(extra = ""): Buffer {
  return Buffer.from(
    `${extra}From: Bank <alerts@bank.example>\r\nTo: bob@example.net\r\nSubject: Your statement\r\n` +
      `Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <s1@bank.example>\r\n\r\nStatement attached.\r\n`,
  );
}

async function deliver(ip: string, from: string, bytes: Buffer) {
  const s = runtime.newSession();
  try {
    expect((await s.connect({ ingress: "inbound", address: ip, localName: "mx.example.net" })).ok).toBe(true);
    await s.helo("mail.sender.example");
    expect((await s.mail(from, {})).ok).toBe(true);
    expect((await s.rcpt("bob@example.net", {})).ok).toBe(true);
    const w = s.beginData();
    await w.write(bytes);
    await w.end();
    return await s.data();
  } finally {
    await s.close();
  }
}

describe("auth filter in the pipeline", () => {
  it("rejects a forged From of a p=reject domain with 550 5.7.1", async () => {
    const r = await deliver("203.0.113.9", "phish@evil.example", message());
    expect(r.reply).toMatchObject({ code: 550, enhanced: "5.7.1" });
    expect(r.verdicts[0]!.symbols.map((s) => s.name)).toEqual(
      expect.arrayContaining(["SPF_NONE", "DKIM_NONE", "DMARC_POLICY_REJECT"]),
    );
  });

  it("accepts a validly signed message and adds Authentication-Results with dkim=pass", async () => {
    const unsigned = message();
    const sig = await signMessage(unsigned, {
      domain: "bank.example",
      selector: "sel",
      privateKeyPem: key.privatePem,
    });
    // A forged Authentication-Results claiming our authserv-id, and a foreign one that stays.
    const incoming = Buffer.concat([
      Buffer.from(`DKIM-Signature: ${sig}\r\n`),
      Buffer.from("Authentication-Results: mx.example.net; dkim=pass header.d=evil.example\r\n"),
      Buffer.from("Authentication-Results: relay.other.example; spf=pass smtp.mailfrom=x@bank.example\r\n"),
      unsigned,
    ]);
    const r = await deliver("203.0.113.9", "alerts@bank.example", incoming);
    expect(r.reply).toBeNull();
    expect(r.verdicts[0]!.action).toBe("accept");
    const edits = r.groups[0]!.edits.filter((e) => e.name === "Authentication-Results");
    expect(edits[0]).toEqual({ op: "delete", name: "Authentication-Results" });
    const ours = edits.at(-1)!;
    expect(ours).toMatchObject({ op: "add", top: true });
    expect(ours.value).toMatch(/^mx\.example\.net;/);
    expect(ours.value).toMatch(/dkim=pass header\.d=bank\.example .*header\.s=sel header\.a=rsa-sha256/);
    expect(ours.value).toMatch(/dmarc=pass \(p=reject\) header\.from=bank\.example/);
    expect(ours.value).toMatch(/spf=fail .*smtp\.mailfrom=alerts@bank\.example/);
    // The foreign field is kept (re-added), the forged one is not.
    const values = edits.filter((e) => e.op === "add").map((e) => e.value);
    expect(values.some((v) => v?.startsWith("relay.other.example;"))).toBe(true);
    expect(values.some((v) => v?.includes("header.d=evil.example"))).toBe(false);
  });
});
