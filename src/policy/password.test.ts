// Password hashes: today's scrypt parameters (N=2^17, r=8, p=1), old N=2^14 hashes still
// verify and are flagged for rehash, disabled ("!…") and malformed hashes never verify.
import { scrypt, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  forgetVerifiedPasswords,
  kdfRuns,
  hashPassword,
  needsRehash,
  SCRYPT_COST,
  verifyPassword,
} from "./password.ts";

/** A hash as the previous release wrote it (N=2^14). */
async function oldHash(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await new Promise<Buffer>((res, rej) =>
    scrypt(secret, salt, 32, { N: 16384, r: 8, p: 1 }, (e, k) => (e ? rej(e) : res(k))),
  );
  return `scrypt$16384$8$1$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

describe("password hashes", () => {
  it("hashes with N=2^17, r=8, p=1 and verifies (maxmem raised for 128 MiB)", async () => {
    const h = await hashPassword("correct horse");
    expect(h.startsWith(`scrypt$${2 ** 17}$8$1$`)).toBe(true);
    expect(SCRYPT_COST).toEqual({ N: 131072, r: 8, p: 1 });
    expect(await verifyPassword("correct horse", h)).toBe(true);
    expect(await verifyPassword("wrong horse", h)).toBe(false);
    expect(needsRehash(h)).toBe(false);
  });

  it("keeps verifying N=2^14 hashes and asks for a rehash", async () => {
    const h = await oldHash("old secret");
    expect(await verifyPassword("old secret", h)).toBe(true);
    expect(needsRehash(h)).toBe(true);
  });

  it("never verifies a disabled or malformed hash, nor absurd parameters", async () => {
    const h = await oldHash("s3cret");
    expect(await verifyPassword("s3cret", `!${h}`)).toBe(false);
    expect(await verifyPassword("s3cret", "scrypt$x")).toBe(false);
    expect(await verifyPassword("s3cret", h.replace("$16384$", "$1073741824$"))).toBe(false);
    expect(needsRehash(`!${h}`)).toBe(false);
  });

  it("remembers a recent success (no second scrypt run) but never a failure or an old hash", async () => {
    const h = await oldHash("cached secret");
    const before = kdfRuns();
    expect(await verifyPassword("cached secret", h)).toBe(true);
    for (let i = 0; i < 20; i++) expect(await verifyPassword("cached secret", h)).toBe(true);
    expect(kdfRuns() - before).toBe(1);
    expect(await verifyPassword("wrong secret", h)).toBe(false);
    expect(await verifyPassword("wrong secret", h)).toBe(false);
    expect(kdfRuns() - before).toBe(3);
    // A changed password is a new stored hash: the old success does not carry over.
    const changed = await oldHash("new secret");
    expect(await verifyPassword("cached secret", changed)).toBe(false);
    forgetVerifiedPasswords();
    expect(await verifyPassword("cached secret", `!${h}`)).toBe(false);
    expect(await verifyPassword("cached secret", h)).toBe(true);
    expect(kdfRuns() - before).toBe(6);
  });
});
