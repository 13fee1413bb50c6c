// The built-in directory's logins: an unknown user or one without a password costs a full
// scrypt verification (no timing oracle), and a store user's old hash is upgraded on login.
import { scrypt, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { configSchema } from "../config/schema.ts";
import { SqliteStore } from "../store/sqlite.ts";
import { BuiltinDirectory } from "./builtin-directory.ts";
import { hashPassword, needsRehash } from "./password.ts";

const config = configSchema.parse({
  tenants: [{ id: "t", domains: ["t.example"], users: [{ address: "nopass@t.example" }] }],
});

async function hash16k(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await new Promise<Buffer>((res, rej) =>
    scrypt(secret, salt, 32, { N: 16384, r: 8, p: 1 }, (e, k) => (e ? rej(e) : res(k))),
  );
  return `scrypt$16384$8$1$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

const user = (address: string, passwordHash: string | null) => ({
  id: address,
  tenant: "t",
  address,
  aliases: [],
  language: null,
  spamFilter: null,
  thresholds: {},
  whitelist: [],
  blacklist: [],
  sendAs: [],
  passwordHash,
});

const timed = async (fn: () => Promise<unknown>) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};

describe("BuiltinDirectory.authenticate", () => {
  it("spends a full verification on unknown users and users without a password", async () => {
    const store = new SqliteStore(":memory:");
    await store.migrate();
    await store.putUser(user("known@t.example", await hashPassword("right-password")));
    const d = new BuiltinDirectory(config, store);
    await d.authenticate("known@t.example", "warm-up");
    const known = await timed(() => d.authenticate("known@t.example", "wrong-password"));
    const unknown = await timed(() => d.authenticate("nobody@t.example", "wrong-password"));
    const noPassword = await timed(() => d.authenticate("nopass@t.example", "wrong-password"));
    // Before: an unknown user answered in ~1 ms against ~100+ ms for a known one.
    expect(unknown).toBeGreaterThan(known / 3);
    expect(noPassword).toBeGreaterThan(known / 3);
    expect(await d.authenticate(" known@t.example", "right-password")).not.toBeNull();
    await store.close();
  });

  it("rehashes a store user's N=2^14 hash with today's parameters on a successful login", async () => {
    const store = new SqliteStore(":memory:");
    await store.migrate();
    await store.putUser({
      ...user("old@t.example", await hash16k("old-password")),
      whitelist: ["x.example"],
    });
    const d = new BuiltinDirectory(config, store);
    expect(await d.authenticate("old@t.example", "wrong")).toBeNull();
    expect(needsRehash((await store.getUser("old@t.example"))!.passwordHash!)).toBe(true);
    expect((await d.authenticate("old@t.example", "old-password"))?.address).toBe("old@t.example");
    const after = (await store.getUser("old@t.example"))!;
    expect(after.passwordHash).toMatch(/^scrypt\$131072\$8\$1\$/);
    expect(after.whitelist).toEqual(["x.example"]);
    expect(await d.authenticate("old@t.example", "old-password")).not.toBeNull();
    await store.close();
  });
});
