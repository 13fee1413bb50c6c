// Password hashing for built-in users and console accounts: scrypt (memory-hard, in
// node:crypto, no native addon). Format: scrypt$N$r$p$salt$hash (base64url). New hashes use
// OWASP's N=2^17, r=8, p=1; older hashes still verify and are rehashed by the caller on login.
import { createHmac, scrypt, randomBytes, timingSafeEqual, type ScryptOptions } from "node:crypto";

export const SCRYPT_COST = { N: 2 ** 17, r: 8, p: 1 } as const;
/** Refuse stored parameters that would make one verification a denial of service. */
const MAX_N = 2 ** 20;

let kdfCount = 0;
/** How many scrypt derivations this process ran (each costs ~128 MiB and a fraction of a second). */
export function kdfRuns(): number {
  return kdfCount;
}

function derive(secret: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  kdfCount++;
  // scrypt needs 128·N·r bytes; Node's default maxmem (32 MiB) refuses N=2^17 (128 MiB).
  const maxmem = 2 * 128 * (opts.N ?? 0) * (opts.r ?? 0) + 1024 * 1024;
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, 32, { ...opts, maxmem }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(secret: string): Promise<string> {
  const { N, r, p } = SCRYPT_COST;
  const salt = randomBytes(16);
  const key = await derive(secret, salt, { N, r, p });
  return `scrypt$${N}$${r}$${p}$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

function parse(stored: string) {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return null;
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  if (![cost.N, cost.r, cost.p].every(Number.isSafeInteger) || cost.N > MAX_N || cost.r > 32 || cost.p > 16)
    return null;
  return { cost, salt: Buffer.from(salt, "base64url"), hash: Buffer.from(hash, "base64url") };
}

export async function verifyPassword(secret: string, stored: string): Promise<boolean> {
  const h = parse(stored);
  if (!h) {
    // A disabled account ("!scrypt$…") or a malformed hash: same work as a real check.
    await burnVerification(secret);
    return false;
  }
  const remembered = verified.key(secret, stored);
  if (verified.has(remembered)) return true;
  const key = await derive(secret, h.salt, h.cost);
  const ok = key.length === h.hash.length && timingSafeEqual(key, h.hash);
  if (ok) verified.add(remembered);
  return ok;
}

/**
 * Recently verified credentials, as Dovecot's auth cache keeps them: a mail client that logs in
 * every few minutes (SMTP AUTH on each submission) must not cost a 128 MiB scrypt run each time.
 * Only successes are kept, for a few minutes, as an HMAC under a per-process random key over the
 * stored hash and the password — never the password itself; a new password (a new stored hash)
 * misses. Failures always pay the full price, and the login throttle limits how often.
 */
class VerifiedCache {
  private readonly secret = randomBytes(32);
  private readonly entries = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly max: number;

  constructor(ttlMs: number, max: number) {
    this.ttlMs = ttlMs;
    this.max = max;
  }

  key(password: string, stored: string): string {
    return createHmac("sha256", this.secret).update(stored).update("\0").update(password).digest("base64url");
  }

  has(key: string): boolean {
    const until = this.entries.get(key);
    if (until === undefined) return false;
    if (until < Date.now()) {
      this.entries.delete(key);
      return false;
    }
    return true;
  }

  add(key: string): void {
    this.entries.delete(key);
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, Date.now() + this.ttlMs);
  }

  clear(): void {
    this.entries.clear();
  }
}

const verified = new VerifiedCache(5 * 60_000, 10_000);

/** Forget every remembered verification (tests; an operator's emergency lever). */
export function forgetVerifiedPasswords(): void {
  verified.clear();
}

/** True when a hash that just verified should be replaced by one with today's parameters. */
export function needsRehash(stored: string): boolean {
  const h = parse(stored);
  if (!h) return false;
  return h.cost.N < SCRYPT_COST.N || h.cost.r !== SCRYPT_COST.r || h.cost.p !== SCRYPT_COST.p;
}

let dummy: Promise<string> | null = null;

/**
 * The cost of one verification with nothing to compare: for unknown logins and users without
 * a password, so the answer time does not reveal which logins exist.
 */
export async function burnVerification(secret: string): Promise<void> {
  dummy ??= hashPassword("sluice dummy password");
  const h = parse(await dummy)!;
  await derive(secret, h.salt, h.cost);
}
