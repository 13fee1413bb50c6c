// DKIM keys kept in the store, encrypted at rest: the node's secret key (secrets.key_file in
// the local configuration, or SLUICE_SECRET_KEY), AES-256-GCM sealing of private keys bound to
// their domain and selector, and the key source the signer and the ARC sealer read from.
// Not the store itself (src/store/) and not key generation (keygen.ts).
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { DkimKeyRecord, Store } from "../../store/types.ts";
import {
  DkimKeyError,
  generateDkimKey,
  loadDkimKey,
  type DkimKeyPair,
  type DkimKeyType,
  type LoadedKey,
} from "./keygen.ts";

export const SECRET_ENV = "SLUICE_SECRET_KEY";

/** Blob layout: version (1) | IV (12) | GCM tag (16) | ciphertext. */
const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export type DkimKeyTable = Required<Pick<Store, "putDkimKey" | "getDkimKey" | "listDkimKeys">>;

/** The store's DKIM key methods, or a clear error for a backend without them. */
export function dkimKeyTable(store: Store): DkimKeyTable {
  const { putDkimKey, getDkimKey, listDkimKeys } = store;
  if (!putDkimKey || !getDkimKey || !listDkimKeys)
    throw new DkimKeyError("this store has no DKIM key table (use a store that keeps DKIM keys)");
  return {
    putDkimKey: putDkimKey.bind(store),
    getDkimKey: getDkimKey.bind(store),
    listDkimKeys: listDkimKeys.bind(store),
  };
}

/** A 32-byte key from text: 64 hex digits or base64 of 32 bytes (a file may also hold 32 raw bytes). */
export function parseSecretKey(raw: Buffer | string, source: string): Buffer {
  if (Buffer.isBuffer(raw) && raw.length === 32) return Buffer.from(raw);
  const text = raw.toString().trim();
  if (/^[0-9a-f]{64}$/i.test(text)) return Buffer.from(text, "hex");
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) {
    const b = Buffer.from(text, /[-_]/.test(text) ? "base64url" : "base64");
    if (b.length === 32) return b;
  }
  throw new DkimKeyError(
    `${source}: not a 256-bit key (expected 64 hex digits or base64 of 32 bytes, e.g. from \`openssl rand -hex 32\`)`,
  );
}

/**
 * The node's secret key: secrets.key_file when configured, else $SLUICE_SECRET_KEY; null when
 * neither is set (callers that need it say so).
 */
export async function loadSecretKey(opts: {
  keyFile?: string;
  env?: NodeJS.ProcessEnv;
}): Promise<Buffer | null> {
  if (opts.keyFile) {
    const raw = await readFile(opts.keyFile).catch((err: Error) => {
      throw new DkimKeyError(`secrets.key_file ${opts.keyFile} cannot be read: ${err.message}`);
    });
    return parseSecretKey(raw, `secrets.key_file ${opts.keyFile}`);
  }
  const env = (opts.env ?? process.env)[SECRET_ENV];
  return env ? parseSecretKey(env, SECRET_ENV) : null;
}

/** Additional data: a sealed key only opens as the key of its own domain and selector. */
function aad(domain: string, selector: string): Buffer {
  return Buffer.from(`sluice-dkim-key\0${domain.toLowerCase()}\0${selector}`);
}

export function sealPrivateKey(pem: string, secret: Buffer, domain: string, selector: string): Buffer {
  if (secret.length !== 32) throw new DkimKeyError("the secret key must be 32 bytes");
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", secret, iv);
  cipher.setAAD(aad(domain, selector));
  const body = Buffer.concat([cipher.update(pem, "utf8"), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
}

export function openPrivateKey(blob: Buffer, secret: Buffer, domain: string, selector: string): string {
  const what = `DKIM key ${selector}._domainkey.${domain}`;
  if (blob.length < 1 + IV_BYTES + TAG_BYTES + 1 || blob[0] !== VERSION)
    throw new DkimKeyError(`${what}: not a sealed key of a known format`);
  const iv = blob.subarray(1, 1 + IV_BYTES);
  const tag = blob.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
  try {
    const decipher = createDecipheriv("aes-256-gcm", secret, iv);
    decipher.setAAD(aad(domain, selector));
    decipher.setAuthTag(tag);
    return Buffer.concat([
      decipher.update(blob.subarray(1 + IV_BYTES + TAG_BYTES)),
      decipher.final(),
    ]).toString("utf8");
  } catch {
    throw new DkimKeyError(
      `${what} cannot be decrypted: wrong secret key (secrets.key_file or ${SECRET_ENV} differs from the one it was stored with) or a damaged record`,
    );
  }
}

export interface StoredKeyInput {
  domain: string;
  selector: string;
  tenant: string | null;
  type: DkimKeyType;
  bits?: number;
}

/** Generate a key pair, store it sealed; the pair is returned for the DNS record. */
export async function createStoredKey(
  store: Store,
  secret: Buffer,
  input: StoredKeyInput,
  now = new Date(),
): Promise<{ pair: DkimKeyPair; record: DkimKeyRecord }> {
  const table = dkimKeyTable(store);
  const pair = generateDkimKey(input.type, input.bits);
  const domain = input.domain.toLowerCase();
  const record: DkimKeyRecord = {
    domain,
    selector: input.selector,
    tenant: input.tenant,
    algorithm: input.type === "rsa" ? "rsa-sha256" : "ed25519-sha256",
    publicKey: pair.publicKey,
    sealedKey: sealPrivateKey(pair.privatePem, secret, domain, input.selector),
    createdAt: now,
  };
  await table.putDkimKey(record);
  return { pair, record };
}

export interface ResolvedKey extends LoadedKey {
  domain: string;
  selector: string;
  tenant: string | null;
}

/** Where signing keys come from besides files: the store, opened with the node's secret. */
export interface KeySource {
  /** The key of a domain (newest, or that selector), or null when the store has none. */
  get(domain: string, selector?: string): Promise<ResolvedKey | null>;
}

export class StoreKeySource implements KeySource {
  private readonly table: DkimKeyTable;
  private readonly secret: Buffer;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, { at: number; key: ResolvedKey | null }>();

  /** Opened keys are kept ttlMs so a busy signer does not decrypt per message. */
  constructor(store: Store, secret: Buffer, opts: { ttlMs?: number; now?: () => number } = {}) {
    this.table = dkimKeyTable(store);
    this.secret = secret;
    this.ttlMs = opts.ttlMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  async get(domain: string, selector?: string): Promise<ResolvedKey | null> {
    const id = `${domain.toLowerCase()}\0${selector ?? ""}`;
    const hit = this.cache.get(id);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.key;
    const rec = await this.table.getDkimKey(domain, selector);
    const key = rec ? openRecord(rec, this.secret) : null;
    this.cache.set(id, { at: this.now(), key });
    return key;
  }
}

export function openRecord(rec: DkimKeyRecord, secret: Buffer): ResolvedKey {
  const pem = openPrivateKey(rec.sealedKey, secret, rec.domain, rec.selector);
  const loaded = loadDkimKey(pem, `DKIM key ${rec.selector}._domainkey.${rec.domain}`);
  return { ...loaded, domain: rec.domain, selector: rec.selector, tenant: rec.tenant };
}
