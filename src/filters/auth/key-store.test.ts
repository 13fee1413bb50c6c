// DKIM keys in the store: sealing (AES-256-GCM, bound to domain and selector), the node's
// secret key, the signer reading per-tenant keys from a real SQLite store, and who may use them.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { emptyEnvelope, type Envelope } from "../../message/envelope.ts";
import { parseHeaderSection } from "../../message/headers.ts";
import type { FilterContext } from "../../pipeline/types.ts";
import { SqliteStore } from "../../store/sqlite.ts";
import type { Store } from "../../store/types.ts";
import { fakeZone } from "./dns.fake.ts";
import {
  createStoredKey,
  dkimKeyTable,
  loadSecretKey,
  openPrivateKey,
  openRecord,
  parseSecretKey,
  sealPrivateKey,
  StoreKeySource,
} from "./key-store.ts";
import { DkimKeyError, generateDkimKey } from "./keygen.ts";
import { signOptionsSchema } from "./options.ts";
import { createSignFilter, mayUseKey, maySign } from "./sign.ts";
import { verifyMessage } from "./verify.ts";

const SECRET = Buffer.alloc(32, 7);
const OTHER = Buffer.alloc(32, 8);
const dir = mkdtempSync(join(tmpdir(), "sluice-keys-"));

describe("sealing a private key", () => {
  const pem = generateDkimKey("ed25519").privatePem;

  it("does not contain the PEM and opens back with the same secret", () => {
    const blob = sealPrivateKey(pem, SECRET, "example.com", "s1");
    expect(blob.includes("PRIVATE KEY")).toBe(false);
    expect(blob.includes(pem.split("\n")[1]!)).toBe(false);
    expect(openPrivateKey(blob, SECRET, "example.com", "s1")).toBe(pem);
    // A fresh IV each time: the same key never seals to the same bytes.
    expect(sealPrivateKey(pem, SECRET, "example.com", "s1").equals(blob)).toBe(false);
  });

  it("refuses a wrong secret with an error that says what to check", () => {
    const blob = sealPrivateKey(pem, SECRET, "example.com", "s1");
    expect(() => openPrivateKey(blob, OTHER, "example.com", "s1")).toThrow(DkimKeyError);
    expect(() => openPrivateKey(blob, OTHER, "example.com", "s1")).toThrow(
      /s1\._domainkey\.example\.com cannot be decrypted: wrong secret key \(secrets\.key_file or SLUICE_SECRET_KEY/,
    );
  });

  it("is bound to its domain and selector, and to its bytes", () => {
    const blob = sealPrivateKey(pem, SECRET, "example.com", "s1");
    expect(() => openPrivateKey(blob, SECRET, "evil.example", "s1")).toThrow(/cannot be decrypted/);
    expect(() => openPrivateKey(blob, SECRET, "example.com", "s2")).toThrow(/cannot be decrypted/);
    const flipped = Buffer.from(blob);
    flipped[flipped.length - 1]! ^= 1;
    expect(() => openPrivateKey(flipped, SECRET, "example.com", "s1")).toThrow(/cannot be decrypted/);
    expect(() => openPrivateKey(Buffer.from("junk"), SECRET, "example.com", "s1")).toThrow(/known format/);
  });
});

describe("the node's secret key", () => {
  it("accepts 64 hex digits, base64 of 32 bytes, or 32 raw bytes; nothing else", () => {
    expect(parseSecretKey("07".repeat(32), "x")).toEqual(SECRET);
    expect(parseSecretKey(SECRET.toString("base64"), "x")).toEqual(SECRET);
    expect(parseSecretKey(SECRET, "x")).toEqual(SECRET);
    expect(() => parseSecretKey("too short", "SLUICE_SECRET_KEY")).toThrow(
      /SLUICE_SECRET_KEY: not a 256-bit key/,
    );
    expect(() => parseSecretKey("07".repeat(16), "x")).toThrow(DkimKeyError);
  });

  it("comes from secrets.key_file first, then SLUICE_SECRET_KEY, else null", async () => {
    const file = join(dir, "secret.key");
    writeFileSync(file, "08".repeat(32) + "\n");
    const env = { SLUICE_SECRET_KEY: "07".repeat(32) };
    expect(await loadSecretKey({ keyFile: file, env })).toEqual(OTHER);
    expect(await loadSecretKey({ env })).toEqual(SECRET);
    expect(await loadSecretKey({ env: {} })).toBeNull();
    await expect(loadSecretKey({ keyFile: join(dir, "missing"), env })).rejects.toThrow(
      /secrets\.key_file .*missing cannot be read/,
    );
  });
});

describe("keys in the store", () => {
  let store: Store;
  let path: string;
  beforeEach(async () => {
    path = join(mkdtempSync(join(dir, "db-")), "s.db");
    store = new SqliteStore(path);
    await store.migrate();
  });
  afterEach(async () => store.close());

  it("keeps only the sealed blob in the database, which opens back to the key", async () => {
    const { pair, record } = await createStoredKey(store, SECRET, {
      domain: "Acme.Example",
      selector: "s1",
      tenant: "acme",
      type: "rsa",
    });
    const raw = new DatabaseSync(path).prepare("SELECT * FROM dkim_key").all() as Record<string, unknown>[];
    expect(raw).toHaveLength(1);
    const dump = JSON.stringify(raw) + Buffer.from(raw[0]!.sealed_key as Uint8Array).toString("latin1");
    const pemBody = pair.privatePem.replace(/-----[^-]+-----|\s/g, "");
    expect(dump.includes("PRIVATE KEY")).toBe(false);
    expect(dump.includes(pemBody.slice(0, 64))).toBe(false);
    const got = (await dkimKeyTable(store).getDkimKey("acme.example", "s1"))!;
    expect(got.domain).toBe("acme.example");
    expect(got.publicKey).toBe(pair.publicKey);
    expect(record.sealedKey.equals(got.sealedKey)).toBe(true);
    const opened = openRecord(got, SECRET);
    expect(opened).toMatchObject({
      pem: pair.privatePem,
      algorithm: "rsa-sha256",
      bits: 2048,
      tenant: "acme",
    });
    expect(() => openRecord(got, OTHER)).toThrow(/wrong secret key/);
  });

  it("serves the newest key of a domain, caching opened keys for the TTL", async () => {
    let t = 0;
    const src = new StoreKeySource(store, SECRET, { ttlMs: 1000, now: () => t });
    expect(await src.get("acme.example")).toBeNull();
    await createStoredKey(
      store,
      SECRET,
      { domain: "acme.example", selector: "old", tenant: null, type: "ed25519" },
      new Date(1000),
    );
    expect(await src.get("acme.example")).toBeNull(); // the miss is cached too
    t = 1500;
    expect((await src.get("acme.example"))!.selector).toBe("old");
    await createStoredKey(
      store,
      SECRET,
      { domain: "acme.example", selector: "new", tenant: null, type: "ed25519" },
      new Date(2000),
    );
    expect((await src.get("acme.example"))!.selector).toBe("old");
    t = 3000;
    expect((await src.get("acme.example"))!.selector).toBe("new");
    expect((await src.get("acme.example", "old"))!.selector).toBe("old");
  });

  it("fails clearly on a store without the key table", () => {
    const bare = { putDkimKey: undefined } as unknown as Store;
    expect(() => dkimKeyTable(bare)).toThrow(/no DKIM key table/);
  });
});

describe("who may sign", () => {
  const env = (o: Partial<Envelope>): Envelope => ({ ...emptyEnvelope("submission", "192.0.2.50"), ...o });

  it("authenticated senders and internal networks (IPv4, IPv6, v4-mapped), nobody else", () => {
    const internal = ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"];
    expect(maySign(env({ auth: "alice@acme.example" }), [])).toBe(true);
    const at = (address: string) => env({ client: { address } });
    expect(maySign(at("10.1.2.3"), internal)).toBe(true);
    expect(maySign(at("::ffff:10.1.2.3"), internal)).toBe(true);
    expect(maySign(at("2001:db8:1::5"), internal)).toBe(true);
    expect(maySign(at("192.0.2.7"), internal)).toBe(true);
    expect(maySign(at("192.0.2.8"), internal)).toBe(false);
    expect(maySign(at("11.0.0.1"), internal)).toBe(false);
    expect(maySign(at("2001:db9::1"), internal)).toBe(false);
    expect(maySign(at("not-an-ip"), internal)).toBe(false);
  });

  it("a tenant's stored key only for that tenant's senders", () => {
    const key = { domain: "acme.example", tenant: "acme" };
    const tenantOf = (a: string) =>
      a.endsWith("@acme.example") || a.endsWith(".acme.example") ? "acme" : "other";
    expect(mayUseKey({ ...key, tenant: null }, env({ auth: "x@anywhere.example" }))).toBe(true);
    expect(mayUseKey(key, env({ auth: "alice@acme.example" }), tenantOf)).toBe(true);
    expect(mayUseKey(key, env({ auth: "mallory@other.example" }), tenantOf)).toBe(false);
    // Without tenantOf: the sender's own domain must be the key's (or below it).
    expect(mayUseKey(key, env({ auth: "alice@acme.example" }))).toBe(true);
    expect(mayUseKey(key, env({ auth: "alice@eu.acme.example" }))).toBe(true);
    expect(mayUseKey(key, env({ auth: "mallory@notacme.example" }))).toBe(false);
    // An internal host without AUTH acts as its MAIL FROM.
    expect(
      mayUseKey(
        key,
        env({ auth: null, mailFrom: { address: "app@acme.example", params: {} } as Envelope["mailFrom"] }),
      ),
    ).toBe(true);
    expect(mayUseKey(key, env({ auth: null, mailFrom: null }))).toBe(false);
  });
});

describe("the dkim_sign filter with store keys", () => {
  let store: Store;
  beforeEach(async () => {
    store = new SqliteStore(join(mkdtempSync(join(dir, "sign-")), "s.db"));
    await store.migrate();
  });
  afterEach(async () => store.close());

  const message = Buffer.from(
    "From: Alice <alice@acme.example>\r\nTo: bob@example.net\r\nSubject: hi\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <k@acme.example>\r\n\r\nHello\r\n",
  );

  async function sign(auth: string, keys: StoreKeySource) {
    const filter = createSignFilter({ keys: () => keys });
    const head = message.subarray(0, message.indexOf("\r\n\r\n") + 2);
    const ctx = {
      stage: "data",
      envelope: { ...emptyEnvelope("submission", "198.51.100.20"), auth },
      tx: { headers: parseHeaderSection(head), spool: { stream: () => message } },
      recipients: [],
      options: signOptionsSchema.parse({ internal_networks: [] }),
      earlier: [],
    } as unknown as FilterContext;
    return filter.check(ctx);
  }

  it("signs with the From domain's stored key; the signature verifies against its record", async () => {
    const { pair } = await createStoredKey(store, SECRET, {
      domain: "acme.example",
      selector: "s9",
      tenant: "acme",
      type: "ed25519",
    });
    const r = await sign("alice@acme.example", new StoreKeySource(store, SECRET));
    expect(r.symbols).toEqual([{ name: "DKIM_SIGNED", score: 0, detail: "acme.example/s9" }]);
    const value = r.headers![0]!.value!;
    expect(value).toMatch(/a=ed25519-sha256/);
    const signed = Buffer.concat([Buffer.from(`DKIM-Signature: ${value}\r\n`), message]);
    const o = await verifyMessage({
      message: signed,
      headers: parseHeaderSection(Buffer.alloc(0)),
      ip: "198.51.100.20",
      helo: null,
      mailFrom: "",
      mta: "mx.test",
      resolver: fakeZone({ "s9._domainkey.acme.example": [{ type: "TXT", value: pair.dnsTxt }] }).resolve,
      senderId: false,
      spfHelo: false,
      minKeyBits: 1024,
    });
    expect(o.dkim.map((d) => `${d.result} ${d.domain}/${d.selector}`)).toEqual(["pass acme.example/s9"]);
  });

  it("does not sign with another tenant's key, nor when the store has none", async () => {
    await createStoredKey(store, SECRET, {
      domain: "acme.example",
      selector: "s9",
      tenant: "acme",
      type: "ed25519",
    });
    const r = await sign("mallory@evil.example", new StoreKeySource(store, SECRET));
    expect(r.headers).toBeUndefined();
    expect(r.symbols![0]).toMatchObject({
      name: "DKIM_SIGN_SKIPPED",
      detail: expect.stringMatching(/tenant acme/),
    });
    const empty = new SqliteStore(join(mkdtempSync(join(dir, "empty-")), "s.db"));
    await empty.migrate();
    const none = await sign("alice@acme.example", new StoreKeySource(empty, SECRET));
    expect(none.symbols![0]).toMatchObject({ name: "DKIM_SIGN_SKIPPED", detail: "no key for acme.example" });
    await empty.close();
  });

  it("fails loudly (not silently unsigned) when the node's secret is not the one the key was sealed with", async () => {
    await createStoredKey(store, SECRET, {
      domain: "acme.example",
      selector: "s9",
      tenant: null,
      type: "ed25519",
    });
    await expect(sign("alice@acme.example", new StoreKeySource(store, OTHER))).rejects.toThrow(
      /wrong secret key/,
    );
  });
});
