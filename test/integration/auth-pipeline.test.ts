// Sender authentication end to end through the pipeline (Runtime + Session, as the SMTP proxy
// and the milter drive it), with DNS from a declared zone: a forged DMARC-reject domain is
// refused, a validly signed message gets Authentication-Results with dkim=pass (forged ones
// removed one by one, foreign ones left in place), and a tenant that seals adds a valid ARC set.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseHeaderSection } from "../../src/message/headers.ts";
import { applyEdits } from "../../src/message/rewrite.ts";
import { verifyMessage } from "../../src/filters/auth/verify.ts";
import { createStoredKey, StoreKeySource } from "../../src/filters/auth/key-store.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { Runtime } from "../../src/runtime.ts";
import { createAuthFilter, generateDkimKey, signMessage } from "../../src/filters/auth/index.ts";
import { fakeZone } from "../../src/filters/auth/dns.fake.ts";

const key = generateDkimKey("rsa");
const arcKey = generateDkimKey("rsa");
const arcKeyFile = join(mkdtempSync(join(tmpdir(), "sluice-arc-")), "arc.pem");
writeFileSync(arcKeyFile, arcKey.privatePem);
// The third tenant seals with a key kept (sealed) in a store rather than a file.
const keyStore = new SqliteStore(join(mkdtempSync(join(tmpdir(), "sluice-arcstore-")), "s.db"));
await keyStore.migrate();
const SECRET = Buffer.alloc(32, 3);
const stored = await createStoredKey(keyStore, SECRET, {
  domain: "seal.example",
  selector: "arcstore",
  tenant: null,
  type: "rsa",
});
const zone = fakeZone({
  "arcstore._domainkey.seal.example": [{ type: "TXT", value: stored.pair.dnsTxt }],
  "sel._domainkey.bank.example": [{ type: "TXT", value: key.dnsTxt }],
  "arc._domainkey.example.net": [{ type: "TXT", value: arcKey.dnsTxt }],
  "_dmarc.bank.example": [{ type: "TXT", value: "v=DMARC1; p=reject" }],
  "bank.example": [{ type: "TXT", value: "v=spf1 ip4:198.51.100.0/24 -all" }],
});

// The spam classifier is off: these tests are about authentication, not the spam model.
const CONFIG = `
store: "sqlite::memory:"
policy:
  filters:
    spam-classifier: { enabled: false }
tenants:
  - id: acme
    domains: [example.net]
    users:
      - address: bob@example.net
    policy:
      filters:
        auth:
          options: { authserv_id: mx.example.net, dmarc_reject_action: reject }
  - id: sealer
    domains: [example.org]
    users:
      - address: carol@example.org
    policy:
      filters:
        auth:
          options:
            authserv_id: mx.example.org
            arc_seal: { domain: example.net, selector: arc, private_key_file: "${arcKeyFile}" }
  - id: storesealer
    domains: [example.com]
    users:
      - address: dave@example.com
    policy:
      filters:
        auth:
          options:
            authserv_id: mx.example.com
            arc_seal: { domain: seal.example, selector: arcstore }
  - id: brokenseal
    domains: [example.info]
    users:
      - address: erin@example.info
    policy:
      filters:
        auth:
          options:
            authserv_id: mx.example.info
            arc_seal: { domain: seal.example, selector: missing }
`;

let runtime: Runtime;
beforeAll(async () => {
  runtime = await Runtime.create({
    configText: CONFIG,
    store: "never",
    extraFilters: [
      createAuthFilter({
        resolver: () => zone.resolve,
        keys: () => new StoreKeySource(keyStore, SECRET),
      }),
    ],
    logger: (await import("pino")).default({ level: "silent" }),
  });
});
afterAll(async () => {
  await runtime?.close();
  await keyStore.close();
});

function message(extra = ""): Buffer {
  return Buffer.from(
    `${extra}From: Bank <alerts@bank.example>\r\nTo: bob@example.net\r\nSubject: Your statement\r\n` +
      `Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <s1@bank.example>\r\n\r\nStatement attached.\r\n`,
  );
}

async function deliver(ip: string, from: string, bytes: Buffer, rcpt = "bob@example.net") {
  const s = runtime.newSession();
  try {
    expect((await s.connect({ ingress: "inbound", address: ip, localName: "mx.example.net" })).ok).toBe(true);
    await s.helo("mail.sender.example");
    expect((await s.mail(from, {})).ok).toBe(true);
    expect((await s.rcpt(rcpt, {})).ok).toBe(true);
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
    // Only the forged field (the first of the two) is deleted; nothing is re-added.
    expect(edits[0]).toEqual({ op: "delete", name: "Authentication-Results", index: 1 });
    expect(edits).toHaveLength(2);
    const ours = edits.at(-1)!;
    expect(ours).toMatchObject({ op: "add", top: true });
    expect(ours.value).toMatch(/^mx\.example\.net;/);
    expect(ours.value).toMatch(/dkim=pass header\.d=bank\.example .*header\.s=sel header\.a=rsa-sha256/);
    expect(ours.value).toMatch(/dmarc=pass \(p=reject\) header\.from=bank\.example/);
    expect(ours.value).toMatch(/spf=fail .*smtp\.mailfrom=alerts@bank\.example/);
    // The copy as delivered: ours on top, the foreign field where it was, the forged one gone.
    const head = incoming.subarray(0, incoming.indexOf("\r\n\r\n") + 2);
    const names = applyEdits(parseHeaderSection(head), r.groups[0]!.edits).fields.map((f) =>
      f.raw.toString().slice(0, 60),
    );
    expect(names[0]).toMatch(/^Authentication-Results: mx\.example\.net;/);
    expect(names[1]).toMatch(/^DKIM-Signature:/);
    expect(names[2]).toMatch(/^Authentication-Results: relay\.other\.example;/);
    expect(names.filter((n) => n.startsWith("Authentication-Results"))).toHaveLength(2);
  });
});

describe("ARC sealing in the pipeline", () => {
  async function sealedCopy(incoming: Buffer, rcpt = "carol@example.org") {
    const r = await deliver("203.0.113.9", "alerts@bank.example", incoming, rcpt);
    expect(r.reply).toBeNull();
    const head = incoming.subarray(0, incoming.indexOf("\r\n\r\n") + 2);
    const edited = applyEdits(parseHeaderSection(head), r.groups[0]!.edits);
    const bytes = Buffer.concat([edited.toBuffer(), incoming.subarray(head.length)]);
    const o = await verifyMessage({
      message: bytes,
      headers: edited,
      ip: "192.0.2.77",
      helo: "mx.example.org",
      mailFrom: "",
      mta: "next.example",
      resolver: zone.resolve,
      senderId: false,
      spfHelo: false,
      minKeyBits: 1024,
    });
    return { r, edited, o };
  }

  it("seals a verified message: the next hop validates our ARC set and reads our verdict in it", async () => {
    const unsigned = message();
    const sig = await signMessage(unsigned, {
      domain: "bank.example",
      selector: "sel",
      privateKeyPem: key.privatePem,
    });
    const { r, edited, o } = await sealedCopy(
      Buffer.concat([Buffer.from(`DKIM-Signature: ${sig}\r\n`), unsigned]),
    );
    expect(r.verdicts[0]!.symbols.map((s) => s.name)).toContain("ARC_SEALED");
    expect(edited.fields.slice(0, 4).map((f) => f.name)).toEqual([
      "ARC-Seal",
      "ARC-Message-Signature",
      "ARC-Authentication-Results",
      "Authentication-Results",
    ]);
    expect(edited.get("ARC-Seal")).toMatch(/cv=none/);
    expect(edited.get("ARC-Authentication-Results")).toMatch(
      /^i=1; mx\.example\.org;.*dkim=pass header\.d=bank\.example/,
    );
    expect(o.arc).toMatchObject({ result: "pass", instance: 1 });
    expect(o.arc.hops).toEqual([{ instance: 1, sealer: "example.net", dmarc: "pass" }]);
  });

  it("seals with a key from the store when arc_seal names no file", async () => {
    const unsigned = message();
    const sig = await signMessage(unsigned, {
      domain: "bank.example",
      selector: "sel",
      privateKeyPem: key.privatePem,
    });
    const { r, edited, o } = await sealedCopy(
      Buffer.concat([Buffer.from(`DKIM-Signature: ${sig}\r\n`), unsigned]),
      "dave@example.com",
    );
    expect(r.verdicts[0]!.symbols).toContainEqual({
      name: "ARC_SEALED",
      score: 0,
      detail: "seal.example/arcstore",
    });
    expect(edited.get("ARC-Seal")).toMatch(/a=rsa-sha256/);
    expect(o.arc).toMatchObject({ result: "pass", instance: 1 });
    expect(o.arc.hops).toEqual([{ instance: 1, sealer: "seal.example", dmarc: "pass" }]);
  });

  it("a sealing fault (no such key) is reported, not a tempfail: the verdict and A-R still go out", async () => {
    const r = await deliver("203.0.113.9", "phish@evil.example", message(), "erin@example.info");
    expect(r.reply).toMatchObject({ code: 550, enhanced: "5.7.1" });
    const ok = await deliver("198.51.100.7", "alerts@bank.example", message(), "erin@example.info");
    expect(ok.reply).toBeNull();
    expect(ok.verdicts[0]!.symbols).toContainEqual({
      name: "ARC_SEAL_FAILED",
      score: 0,
      detail: "no ARC key missing._domainkey.seal.example in the store",
    });
    const edits = ok.groups[0]!.edits;
    expect(edits.some((e) => e.name === "Authentication-Results" && e.op === "add")).toBe(true);
    expect(edits.some((e) => e.name.startsWith("ARC-"))).toBe(false);
  });

  it("adds no set to a chain whose newest seal says cv=fail", async () => {
    const failed =
      "ARC-Seal: i=1; a=rsa-sha256; cv=fail; d=x.example; s=s; t=1; b=AAAA\r\n" +
      "ARC-Message-Signature: i=1; a=rsa-sha256; d=x.example; s=s; h=from; bh=AAAA; b=AAAA\r\n" +
      "ARC-Authentication-Results: i=1; x.example; arc=fail\r\n";
    const unsigned = message();
    const sig = await signMessage(unsigned, {
      domain: "bank.example",
      selector: "sel",
      privateKeyPem: key.privatePem,
    });
    const { r, edited } = await sealedCopy(
      Buffer.concat([Buffer.from(failed + `DKIM-Signature: ${sig}\r\n`), unsigned]),
    );
    expect(r.verdicts[0]!.symbols.map((s) => s.name)).toContain("ARC_SEAL_SKIPPED");
    expect(edited.all("ARC-Seal")).toHaveLength(1);
  });
});
