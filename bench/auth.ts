// DKIM throughput benchmark (`node bench/auth.ts`): Sluice sign and verify of 20 KB messages
// with RSA 2048 and Ed25519, and ARC sealing (RSA 2048, two signatures per set), against
// OpenSSL's raw signature speed through node:crypto in the same run. DNS is an in-memory zone so the numbers are CPU only. Not part of `npm test`.
import { createHash, createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import { parseHeaderSection } from "../src/message/headers.ts";
import { fakeZone } from "../src/filters/auth/dns.fake.ts";
import { arcSeal, generateDkimKey, signMessage, verifyMessage } from "../src/filters/auth/index.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);

function message20k(): Buffer {
  const line = "The quick brown fox jumps over the lazy dog, again and again and again.\r\n";
  const head =
    "From: Alice <alice@bench.example>\r\nTo: bob@example.net\r\nSubject: benchmark\r\n" +
    "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <b@bench.example>\r\nMIME-Version: 1.0\r\n" +
    "Content-Type: text/plain; charset=utf-8\r\n\r\n";
  return Buffer.from(head + line.repeat(Math.ceil((20 * 1024 - head.length) / line.length)));
}

async function rate(fn: () => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < 20; i++) await fn();
  let n = 0;
  const start = performance.now();
  const until = start + SECONDS * 1000;
  while (performance.now() < until) {
    await fn();
    n++;
  }
  return (n * 1000) / (performance.now() - start);
}

const msg = message20k();
const rows: string[][] = [["key", "op", "sluice msg/s", "openssl raw op/s", "ratio"]];
for (const type of ["rsa", "ed25519"] as const) {
  const key = generateDkimKey(type);
  const zone = fakeZone({ "s._domainkey.bench.example": [{ type: "TXT", value: key.dnsTxt }] });
  const sig = await signMessage(msg, {
    domain: "bench.example",
    selector: "s",
    privateKeyPem: key.privatePem,
  });
  const signed = Buffer.concat([Buffer.from(`DKIM-Signature: ${sig}\r\n`), msg]);
  const headers = parseHeaderSection(signed.subarray(0, signed.indexOf("\r\n\r\n") + 2));
  const check = async () => {
    const o = await verifyMessage({
      message: signed,
      headers,
      ip: "192.0.2.1",
      helo: null,
      mailFrom: "",
      mta: "bench",
      resolver: zone.resolve,
      senderId: false,
      spfHelo: false,
      minKeyBits: 1024,
    });
    if (o.dkim[0]?.result !== "pass") throw new Error(`verify failed: ${JSON.stringify(o.dkim)}`);
  };
  await check();
  const priv = createPrivateKey(key.privatePem);
  const pub = createPublicKey(priv);
  const data = createHash("sha256").update(msg.subarray(0, 600)).digest();
  const alg = type === "rsa" ? "sha256" : null;
  const rawSig = sign(alg, data, priv);
  const signRate = await rate(() =>
    signMessage(msg, { domain: "bench.example", selector: "s", privateKeyPem: key.privatePem }),
  );
  const rawSign = await rate(() => sign(alg, data, priv));
  const verifyRate = await rate(check);
  const rawVerify = await rate(() => verify(alg, data, pub, rawSig));
  const name = type === "rsa" ? "RSA 2048" : "Ed25519";
  rows.push([name, "sign", signRate.toFixed(0), rawSign.toFixed(0), (signRate / rawSign).toFixed(3)]);
  rows.push([
    name,
    "verify",
    verifyRate.toFixed(0),
    rawVerify.toFixed(0),
    (verifyRate / rawVerify).toFixed(3),
  ]);
}
{
  // ARC: one set = ARC-Message-Signature + ARC-Seal, so the reference is half the raw rate.
  const key = generateDkimKey("rsa");
  const headers = parseHeaderSection(msg.subarray(0, msg.indexOf("\r\n\r\n") + 2));
  const seal = () =>
    arcSeal(msg, headers, {
      domain: "bench.example",
      selector: "s",
      privateKeyPem: key.privatePem,
      authResults: "mx.bench.example; dkim=pass header.d=bench.example; dmarc=pass",
      cv: "none",
      headers: ["from", "to", "subject", "date", "message-id"],
    });
  const priv = createPrivateKey(key.privatePem);
  const data = createHash("sha256").update(msg.subarray(0, 600)).digest();
  const sealRate = await rate(seal);
  const rawHalf = (await rate(() => sign("sha256", data, priv))) / 2;
  rows.push([
    "RSA 2048",
    "arc seal",
    sealRate.toFixed(0),
    rawHalf.toFixed(0),
    (sealRate / rawHalf).toFixed(3),
  ]);
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
console.log(`DKIM, 20 KB messages, ${SECONDS}s per measurement, node ${process.version}`);
for (const r of rows) console.log(r.map((c, i) => c.padStart(widths[i]!)).join("  "));
console.log(
  "ratio = Sluice messages/s ÷ OpenSSL raw signatures/s (1.0 would mean no overhead over the signature).",
);
