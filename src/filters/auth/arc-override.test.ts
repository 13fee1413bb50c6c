// A DMARC failure caused by a forwarder, forgiven because of a real ARC chain: a mailing list
// changes the Subject (breaking the author's DKIM signature) and seals the message with the
// verdict it saw on arrival (dmarc=pass). Verified from bytes, so the hop's recorded dmarc= is
// read from the ARC-Authentication-Results itself (mailauth rewrites it while validating).
import { describe, expect, it } from "vitest";
import { parseHeaderSection } from "../../message/headers.ts";
import { arcSeal } from "./arc-seal.ts";
import { fakeZone } from "./dns.fake.ts";
import { generateDkimKey } from "./keygen.ts";
import { authOptionsSchema } from "./options.ts";
import { dmarcDecision } from "./outcome.ts";
import { signMessage } from "./sign.ts";
import { verifyMessage } from "./verify.ts";

const author = generateDkimKey("ed25519");
const list = generateDkimKey("rsa");
const zone = fakeZone({
  "a._domainkey.bank.example": [{ type: "TXT", value: author.dnsTxt }],
  "arc._domainkey.lists.example": [{ type: "TXT", value: list.dnsTxt }],
  "_dmarc.bank.example": [{ type: "TXT", value: "v=DMARC1; p=reject" }],
  "bank.example": [{ type: "TXT", value: "v=spf1 ip4:198.51.100.0/24 -all" }],
});

const body = (subject: string) =>
  Buffer.from(
    `From: Bank <news@bank.example>\r\nTo: list@lists.example\r\nSubject: ${subject}\r\n` +
      `Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <n1@bank.example>\r\n\r\nNewsletter\r\n`,
  );

async function forwarded(recordedDmarc: "pass" | "fail"): Promise<Buffer> {
  const sig = await signMessage(body("News"), {
    domain: "bank.example",
    selector: "a",
    privateKeyPem: author.privatePem,
  });
  // The list rewrites the Subject, then seals what it sends.
  const changed = Buffer.concat([Buffer.from(`DKIM-Signature: ${sig}\r\n`), body("[list] News")]);
  const head = parseHeaderSection(changed.subarray(0, changed.indexOf("\r\n\r\n") + 2));
  const set = await arcSeal(changed, head, {
    domain: "lists.example",
    selector: "arc",
    privateKeyPem: list.privatePem,
    authResults: `mx.lists.example; dkim=pass header.d=bank.example; dmarc=${recordedDmarc} header.from=bank.example`,
    cv: "none",
    headers: ["from", "to", "subject", "date", "message-id", "dkim-signature"],
  });
  return Buffer.concat([Buffer.from(set!.fields.map((f) => `${f.name}: ${f.value}\r\n`).join("")), changed]);
}

const verify = (message: Buffer) =>
  verifyMessage({
    message,
    headers: parseHeaderSection(message.subarray(0, message.indexOf("\r\n\r\n") + 2)),
    ip: "203.0.113.80",
    helo: "out.lists.example",
    mailFrom: "list-bounces@lists.example",
    mta: "mx.test",
    resolver: zone.resolve,
    senderId: false,
    spfHelo: false,
    minKeyBits: 1024,
  });

const client = { client: { address: "203.0.113.80", name: "out.lists.example" } };

describe("DMARC override by a trusted ARC sealer, from real headers", () => {
  it("forgives the failure when the trusted sealer recorded dmarc=pass", async () => {
    const o = await verify(await forwarded("pass"));
    expect(o.dkim.map((d) => d.result)).toEqual(["fail"]);
    expect(o.dmarc).toMatchObject({ result: "fail", policy: "reject" });
    expect(o.arc).toMatchObject({ result: "pass", instance: 1 });
    expect(o.arc.hops).toEqual([{ instance: 1, sealer: "lists.example", dmarc: "pass" }]);
    const trusted = dmarcDecision(
      o,
      authOptionsSchema.parse({ trusted_arc_sealers: ["lists.example"] }),
      client,
    );
    expect(trusted.action).toBeUndefined();
    expect(trusted.symbols.map((s) => s.name)).toEqual(["DMARC_POLICY_REJECT", "DMARC_OVERRIDE_ARC"]);
    // Not trusted: the reject stands.
    expect(dmarcDecision(o, authOptionsSchema.parse({}), client).action?.type).toBe("reject");
  });

  it("does not forgive when the sealer itself saw dmarc=fail", async () => {
    const o = await verify(await forwarded("fail"));
    expect(o.arc.hops[0]!.dmarc).toBe("fail");
    const d = dmarcDecision(o, authOptionsSchema.parse({ trusted_arc_sealers: ["lists.example"] }), client);
    expect(d.action?.type).toBe("reject");
  });
});
