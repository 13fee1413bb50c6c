// DKIM key pairs (RFC 6376 3.6.1 records, RFC 8463 Ed25519): generation for
// `sluice dkim keygen`, and loading PEM keys with their algorithm. Not key storage (key-store.ts).
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";

export interface DkimKeyPair {
  privatePem: string;
  /** The p= value. */
  publicKey: string;
  /** The TXT record value for SELECTOR._domainkey.DOMAIN (one string; see txtStrings). */
  dnsTxt: string;
}

export type DkimKeyType = "rsa" | "ed25519";

/** The p= value of a public key: SubjectPublicKeyInfo for RSA, the raw 32 bytes for Ed25519. */
export function dkimPublicValue(key: KeyObject): string {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  if (pub.asymmetricKeyType === "ed25519") {
    const der = pub.export({ type: "spki", format: "der" });
    return der.subarray(der.length - 32).toString("base64");
  }
  return pub.export({ type: "spki", format: "der" }).toString("base64");
}

export function generateDkimKey(type: DkimKeyType, bits = 2048): DkimKeyPair {
  const { privateKey } =
    type === "rsa" ? generateKeyPairSync("rsa", { modulusLength: bits }) : generateKeyPairSync("ed25519");
  const privatePem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const publicKey = dkimPublicValue(privateKey);
  return { privatePem, publicKey, dnsTxt: `v=DKIM1; k=${type}; p=${publicKey}` };
}

/** A TXT value cut into the 255-byte character-strings DNS needs (RFC 1035 3.3.14). */
export function txtStrings(value: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < value.length; i += 255) out.push(value.slice(i, i + 255));
  return out;
}

export interface LoadedKey {
  pem: string;
  algorithm: "rsa-sha256" | "ed25519-sha256";
  bits: number | null;
}

export class DkimKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DkimKeyError";
  }
}

/** Parse a PEM private key (PKCS#8 or PKCS#1) and tell its DKIM algorithm. */
export function loadDkimKey(pem: string, source = "key"): LoadedKey {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new DkimKeyError(`${source}: not a PEM private key (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType === "ed25519") return { pem, algorithm: "ed25519-sha256", bits: null };
  if (key.asymmetricKeyType === "rsa") {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? null;
    if (bits !== null && bits < 1024)
      throw new DkimKeyError(`${source}: RSA key of ${bits} bits is too short`);
    return { pem, algorithm: "rsa-sha256", bits };
  }
  throw new DkimKeyError(`${source}: ${key.asymmetricKeyType} keys cannot sign DKIM`);
}
