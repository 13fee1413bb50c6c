// Interop with OpenDKIM (Debian opendkim-tools) through a real dnsmasq on loopback: a message
// signed by opendkim-testmsg verifies in Sluice (DnsResolver → dnsmasq), and a message signed
// by Sluice verifies with opendkim-testmsg (libc resolver pointed at the same dnsmasq); a key
// kept sealed in the store signs through the dkim_sign filter for OpenDKIM, and seals an ARC
// set that validates over the same DNS.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DnsError,
  DnsResolver,
  generateDkimKey,
  signMessage,
  verifyMessage,
} from "../../src/filters/auth/index.ts";
import { parseHeaderSection } from "../../src/message/headers.ts";
import { emptyEnvelope } from "../../src/message/envelope.ts";
import type { FilterContext } from "../../src/pipeline/types.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { arcSeal } from "../../src/filters/auth/arc-seal.ts";
import { createStoredKey, StoreKeySource } from "../../src/filters/auth/key-store.ts";
import { signOptionsSchema } from "../../src/filters/auth/options.ts";
import { createSignFilter } from "../../src/filters/auth/sign.ts";
import { DNSMASQ_BIN, missing, runWithResolver, startDnsmasq, type Dnsmasq } from "../helpers/dns.ts";

const TESTMSG = "/usr/sbin/opendkim-testmsg";
const GENKEY = "/usr/sbin/opendkim-genkey";
const absent =
  missing("dnsmasq-base", [DNSMASQ_BIN]) ??
  missing("opendkim-tools", [TESTMSG, GENKEY]) ??
  (process.getuid?.() === 0 ? null : "not root: dnsmasq on port 53 and unshare need root");
if (absent) console.warn(`skipping OpenDKIM interop: ${absent}`);

const DOMAIN = "interop.example";
const MESSAGE = Buffer.from(
  "From: Alice <alice@interop.example>\r\nTo: bob@example.net\r\nSubject: interop\r\n" +
    "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <i1@interop.example>\r\n\r\n" +
    "Hello from one implementation\r\nto the other.\r\n",
);

describe.skipIf(!!absent)("OpenDKIM interop through dnsmasq", () => {
  let dns: Dnsmasq;
  let dir: string;
  let opendkimKey: string;
  let store: SqliteStore;
  let storedTxt: string;
  const secret = Buffer.alloc(32, 9);
  const rsa = generateDkimKey("rsa");
  const ed = generateDkimKey("ed25519");

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "sluice-opendkim-"));
    const g = spawnSync(GENKEY, ["-b", "2048", "-d", DOMAIN, "-s", "ossel", "-D", dir]);
    expect(g.status, String(g.stderr)).toBe(0);
    opendkimKey = join(dir, "ossel.private");
    const zoneText = readFileSync(join(dir, "ossel.txt"), "utf8");
    const record = [...zoneText.matchAll(/"([^"]*)"/g)].map((m) => m[1]).join("");
    store = new SqliteStore(join(dir, "keys.db"));
    await store.migrate();
    const stored = await createStoredKey(store, secret, {
      domain: DOMAIN,
      selector: "stored",
      tenant: null,
      type: "rsa",
    });
    storedTxt = stored.pair.dnsTxt;
    dns = await startDnsmasq(
      {
        domains: [DOMAIN],
        txt: {
          [`ossel._domainkey.${DOMAIN}`]: record,
          // The same key without the record's h=sha256: opendkim-testmsg can only sign rsa-sha1.
          [`osselany._domainkey.${DOMAIN}`]: record.replace(/\bh=sha256;\s*/, ""),
          [`sluicersa._domainkey.${DOMAIN}`]: rsa.dnsTxt,
          [`sluiced._domainkey.${DOMAIN}`]: ed.dnsTxt,
          [`stored._domainkey.${DOMAIN}`]: storedTxt,
        },
      },
      { port53: true },
    );
  });
  afterAll(async () => {
    await store?.close();
    await dns?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function sluiceVerify(message: Buffer, resolver: DnsResolver) {
    const o = await verifyMessage({
      message,
      headers: parseHeaderSection(message.subarray(0, message.indexOf("\r\n\r\n") + 2)),
      ip: "192.0.2.1",
      helo: "mail.interop.example",
      mailFrom: "alice@interop.example",
      mta: "mx.test",
      resolver: resolver.resolve,
      senderId: false,
      spfHelo: false,
      minKeyBits: 1024,
    });
    return o.dkim;
  }

  it("verifies an OpenDKIM-signed message in Sluice (RSA 2048, key as two TXT strings)", async () => {
    const sign = (selector: string) => {
      const s = spawnSync(TESTMSG, ["-C", "-d", DOMAIN, "-k", opendkimKey, "-s", selector], {
        input: MESSAGE,
      });
      expect(s.status, String(s.stderr)).toBe(0);
      return Buffer.from(s.stdout.toString("latin1").replace(/\r?\n/g, "\r\n"), "latin1");
    };
    const resolver = new DnsResolver({ servers: [dns.server], timeoutMs: 2000 });
    // opendkim-testmsg signs rsa-sha1 while opendkim-genkey's record says h=sha256: RFC 6376
    // 6.1.2 makes that signature a permanent failure (mailauth 4 accepted it).
    const restricted = sign("ossel");
    expect(restricted.toString()).toMatch(/^DKIM-Signature: .*a=rsa-sha1.*d=interop\.example/s);
    expect((await sluiceVerify(restricted, resolver)).map((x) => [x.selector, x.result])).toEqual([
      ["ossel", "permerror"],
    ]);
    const signed = sign("osselany");
    const d = await sluiceVerify(signed, resolver);
    expect(d.map((x) => [x.selector, x.result])).toEqual([["osselany", "pass"]]);
    const tampered = Buffer.from(signed.toString().replace("to the other.", "to another."));
    expect((await sluiceVerify(tampered, resolver)).map((x) => x.result)).toEqual(["fail"]);
  });

  it("verifies a Sluice-signed message with OpenDKIM, and OpenDKIM rejects a tampered one", async () => {
    for (const canon of ["relaxed/relaxed", "simple/simple"]) {
      const sig = await signMessage(MESSAGE, {
        domain: DOMAIN,
        selector: "sluicersa",
        privateKeyPem: rsa.privatePem,
        canonicalization: canon,
      });
      const signed = Buffer.concat([Buffer.from(`DKIM-Signature: ${sig}\r\n`), MESSAGE]);
      const ok = runWithResolver(dns, [TESTMSG], signed);
      expect(ok.status, `${canon}: ${ok.stderr}`).toBe(0);
      const bad = runWithResolver(dns, [TESTMSG], Buffer.from(signed.toString().replace("Hello", "Jello")));
      expect(bad.status, canon).not.toBe(0);
    }
  });

  it("signs with a key kept sealed in the store (dkim_sign filter); OpenDKIM verifies it", async () => {
    const filter = createSignFilter({ keys: new StoreKeySource(store, secret) });
    const ctx = {
      stage: "data",
      envelope: { ...emptyEnvelope("submission", "192.0.2.1"), auth: "alice@interop.example" },
      tx: {
        headers: parseHeaderSection(MESSAGE.subarray(0, MESSAGE.indexOf("\r\n\r\n") + 2)),
        spool: { stream: () => MESSAGE },
      },
      recipients: [],
      options: signOptionsSchema.parse({}),
      earlier: [],
    } as unknown as FilterContext;
    const r = await filter.check(ctx);
    expect(r.symbols).toEqual([{ name: "DKIM_SIGNED", score: 0, detail: `${DOMAIN}/stored` }]);
    const signed = Buffer.concat([Buffer.from(`DKIM-Signature: ${r.headers![0]!.value}\r\n`), MESSAGE]);
    const ok = runWithResolver(dns, [TESTMSG], signed);
    expect(ok.status, String(ok.stderr)).toBe(0);
  });

  it("seals an ARC set with the stored key that validates through dnsmasq", async () => {
    const key = (await new StoreKeySource(store, secret).get(DOMAIN, "stored"))!;
    const set = await arcSeal(
      MESSAGE,
      parseHeaderSection(MESSAGE.subarray(0, MESSAGE.indexOf("\r\n\r\n") + 2)),
      {
        domain: DOMAIN,
        selector: "stored",
        privateKeyPem: key.pem,
        authResults: "mx.interop.example; dkim=none; dmarc=none",
        cv: "none",
        headers: ["from", "to", "subject", "date", "message-id"],
      },
    );
    const sealed = Buffer.concat([
      Buffer.from(set!.fields.map((f) => `${f.name}: ${f.value}\r\n`).join("")),
      MESSAGE,
    ]);
    const o = await verifyMessage({
      message: sealed,
      headers: parseHeaderSection(Buffer.alloc(0)),
      ip: "192.0.2.1",
      helo: "mail.interop.example",
      mailFrom: "",
      mta: "mx.test",
      resolver: new DnsResolver({ servers: [dns.server], timeoutMs: 2000 }).resolve,
      senderId: false,
      spfHelo: false,
      minKeyBits: 1024,
    });
    expect(o.arc).toMatchObject({ result: "pass", instance: 1 });
    const broken = Buffer.from(sealed.toString().replace("Hello from", "Jello from"));
    const bad = await verifyMessage({
      message: broken,
      headers: parseHeaderSection(Buffer.alloc(0)),
      ip: "192.0.2.1",
      helo: null,
      mailFrom: "",
      mta: "mx.test",
      resolver: new DnsResolver({ servers: [dns.server], timeoutMs: 2000 }).resolve,
      senderId: false,
      spfHelo: false,
      minKeyBits: 1024,
    });
    expect(bad.arc.result).toBe("fail");
  });

  it("verifies a Sluice Ed25519 signature in Sluice through dnsmasq", async () => {
    const sig = await signMessage(MESSAGE, {
      domain: DOMAIN,
      selector: "sluiced",
      privateKeyPem: ed.privatePem,
    });
    const signed = Buffer.concat([Buffer.from(`DKIM-Signature: ${sig}\r\n`), MESSAGE]);
    const d = await sluiceVerify(signed, new DnsResolver({ servers: [dns.server] }));
    expect(d.map((x) => [x.algorithm, x.result])).toEqual([["ed25519-sha256", "pass"]]);
  });

  it("DnsResolver caches answers, caches NXDOMAIN, and turns an unreachable server into a temporary error", async () => {
    const r = new DnsResolver({ servers: [dns.server], timeoutMs: 500, tries: 1 });
    const first = (await r.resolve(`sluicersa._domainkey.${DOMAIN}`, "TXT")) as string[][];
    expect(first[0]!.join("")).toBe(rsa.dnsTxt);
    expect(first[0]!.length).toBeGreaterThan(1);
    await r.resolve(`sluicersa._domainkey.${DOMAIN}`, "TXT");
    await expect(r.resolve(`nothere.${DOMAIN}`, "TXT")).rejects.toMatchObject({ code: "ENOTFOUND" });
    await expect(r.resolve(`nothere.${DOMAIN}`, "TXT")).rejects.toBeInstanceOf(DnsError);
    expect(r.stats).toMatchObject({ queries: 4, hits: 2, misses: 2 });

    const dead = new DnsResolver({ servers: ["127.0.0.1:9"], timeoutMs: 300, tries: 1 });
    const started = Date.now();
    const err = await dead.resolve(`x.${DOMAIN}`, "TXT").catch((e: DnsError) => e);
    expect(err).toBeInstanceOf(DnsError);
    expect(["ETIMEOUT", "ECONNREFUSED", "ESERVFAIL", "EREFUSED"]).toContain((err as DnsError).code);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(dead.stats.failures).toBe(1);
  });
});
