// dkimpy's DKIM data: the RFC 8463 A.3 example (Ed25519 + RSA), an Exim-signed Ed25519
// message, and dkimpy's unsigned inputs signed by Sluice with dkimpy's keys then verified,
// including its malformed key records. Verification runs through verifyMessage (mailauth).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseHeaderSection } from "../../../message/headers.ts";
import { fakeZone, type Zone } from "../dns.fake.ts";
import { signMessage } from "../sign.ts";
import { verifyMessage, type DkimOutcome } from "../verify.ts";
import { testdataDir } from "./testdata.ts";

const dir = testdataDir("dkim-dkimpy");
const read = (f: string) => readFileSync(join(dir, f), "utf8");
const crlf = (s: string) => Buffer.from(s.replace(/\r?\n/g, "\r\n"));
const txt = (f: string) => read(f).trim();

/** RFC 8410 PKCS#8 wrapping of a raw Ed25519 seed, as dkimpy stores its keys. */
function ed25519Pem(seedB64: string): string {
  const der = Buffer.concat([
    Buffer.from("302e020100300506032b657004220420", "hex"),
    Buffer.from(seedB64.trim(), "base64"),
  ]);
  return `-----BEGIN PRIVATE KEY-----\n${der.toString("base64")}\n-----END PRIVATE KEY-----\n`;
}

async function dkimOf(message: Buffer, zone: Zone): Promise<DkimOutcome[]> {
  const o = await verifyMessage({
    message,
    headers: parseHeaderSection(Buffer.alloc(0)),
    ip: "192.0.2.1",
    helo: "mx.example.net",
    mailFrom: "",
    mta: "mx.test",
    resolver: fakeZone(zone).resolve,
    senderId: false,
    spfHelo: false,
    minKeyBits: 1024,
  });
  return o.dkim;
}

const FOOTBALL: Zone = {
  "brisbane._domainkey.football.example.com": [
    { type: "TXT", value: "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=" },
  ],
  "test._domainkey.football.example.com": [{ type: "TXT", value: txt("test.txt") }],
};

describe("dkimpy data: RFC 8463 A.3 (rfc6376.signed.msg)", () => {
  it("verifies the Ed25519 and the RSA signature", async () => {
    const d = await dkimOf(crlf(read("rfc6376.signed.msg")), FOOTBALL);
    expect(d.map((x) => [x.algorithm, x.selector, x.result])).toEqual([
      ["ed25519-sha256", "brisbane", "pass"],
      ["rsa-sha256", "test", "pass"],
    ]);
  });
  it("fails both when the body changes", async () => {
    const msg = crlf(read("rfc6376.signed.msg").replace("Are you hungry yet?", "Are you hungry now?"));
    const d = await dkimOf(msg, FOOTBALL);
    expect(d.map((x) => x.result)).toEqual(["fail", "fail"]);
  });
  it("fails the Ed25519 signature when the key record holds another key", async () => {
    const zone: Zone = {
      ...FOOTBALL,
      "brisbane._domainkey.football.example.com": [{ type: "TXT", value: txt("eximtest.dns") }],
    };
    const d = await dkimOf(crlf(read("rfc6376.signed.msg")), zone);
    expect(d[0]!.result).toBe("fail");
    expect(d[1]!.result).toBe("pass");
  });
});

describe("dkimpy data: Exim-signed Ed25519 (ed25519test2.msg)", () => {
  it("verifies with eximtest.dns", async () => {
    const d = await dkimOf(crlf(read("ed25519test2.msg")), {
      "sed._domainkey.test.ex": [{ type: "TXT", value: txt("eximtest.dns") }],
    });
    expect(d.map((x) => [x.domain, x.algorithm, x.result])).toEqual([["test.ex", "ed25519-sha256", "pass"]]);
  });
});

const UNSIGNED = [
  "test.message",
  "test2.message",
  "test_extra.message",
  "message.mbox",
  "rfc6376.msg",
  "ed25519test.msg",
];
const KEYS = [
  { name: "RSA test.private", pem: () => read("test.private"), record: () => txt("test.txt") },
  { name: "RSA test2.private", pem: () => read("test2.private"), record: () => txt("test2.txt") },
  {
    name: "Ed25519 ed25519test.key",
    pem: () => ed25519Pem(read("ed25519test.key")),
    record: () => `v=DKIM1; ${txt("ed25519test.dns")}`,
  },
  {
    name: "Ed25519 rfc8032_7_1.key",
    pem: () => ed25519Pem(read("rfc8032_7_1.key")),
    record: () => "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
  },
];

describe("dkimpy inputs signed by Sluice, verified by Sluice", () => {
  for (const file of UNSIGNED) {
    for (const key of KEYS) {
      for (const canon of ["relaxed/relaxed", "simple/simple"]) {
        it(`${file} with ${key.name} (${canon})`, async () => {
          const message = crlf(read(file));
          const sig = await signMessage(message, {
            domain: "example.com",
            selector: "sel",
            privateKeyPem: key.pem(),
            canonicalization: canon,
          });
          const signed = Buffer.concat([Buffer.from(`DKIM-Signature: ${sig}\r\n`), message]);
          const zone: Zone = { "sel._domainkey.example.com": [{ type: "TXT", value: key.record() }] };
          // Some inputs carry signatures of their own (keys not in this zone): look at ours only.
          const ours = (d: DkimOutcome[]) => d.filter((x) => x.selector === "sel").map((x) => x.result);
          expect(ours(await dkimOf(signed, zone))).toEqual(["pass"]);
          // And a one-byte change in the body breaks it.
          const tampered = Buffer.from(signed.toString().replace(/\r\n\r\n([\s\S])/, "\r\n\r\nX$1"));
          expect(ours(await dkimOf(tampered, zone))).toEqual(["fail"]);
        });
      }
    }
  }
});

describe("dkimpy malformed key records", () => {
  for (const bad of ["badk.txt", "badversion.txt", "test_bad.txt"]) {
    it(`${bad} does not verify a good RSA signature`, async () => {
      const message = crlf(read("test.message"));
      const sig = await signMessage(message, {
        domain: "example.com",
        selector: "sel",
        privateKeyPem: read("test.private"),
      });
      const signed = Buffer.concat([Buffer.from(`DKIM-Signature: ${sig}\r\n`), message]);
      const good = await dkimOf(signed, {
        "sel._domainkey.example.com": [{ type: "TXT", value: txt("test.txt") }],
      });
      expect(good[0]!.result).toBe("pass");
      const d = await dkimOf(signed, { "sel._domainkey.example.com": [{ type: "TXT", value: txt(bad) }] });
      expect(d[0]!.result).not.toBe("pass");
    });
  }
});
