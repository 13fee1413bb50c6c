// `sluice dkim keygen` as an admin runs it: the key goes into the configured store sealed
// under secrets.key_file (the PEM never touches the database), the TXT record is printed, the
// tenant owning the domain is recorded; `dkim list` shows it; no secret → a clear refusal.
import { createPublicKey } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { run } from "../helpers/cli.ts";
import { openPrivateKey } from "../../src/filters/auth/key-store.ts";
import { dkimPublicValue } from "../../src/filters/auth/keygen.ts";

const dir = mkdtempSync(join(tmpdir(), "sluice-keygen-"));
const secretHex = "a1".repeat(32);
writeFileSync(join(dir, "secret.key"), secretHex + "\n", { mode: 0o600 });
const db = join(dir, "s.db");
writeFileSync(
  join(dir, "with-secret.yaml"),
  `store: "sqlite:${db}"\nsecrets: { key_file: "${join(dir, "secret.key")}" }\n` +
    `tenants:\n  - id: acme\n    domains: [acme.example]\n`,
);
writeFileSync(join(dir, "no-secret.yaml"), `store: "sqlite:${join(dir, "other.db")}"\n`);

describe("sluice dkim keygen into the store", () => {
  it("refuses without a secret key, naming the settings", async () => {
    const r = await run(["dkim", "keygen", "acme.example", "s1", "-c", join(dir, "no-secret.yaml")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no secret key .*secrets\.key_file.*SLUICE_SECRET_KEY/);
  });

  it("stores the key sealed for the owning tenant and prints the TXT record", async () => {
    const r = await run([
      "dkim",
      "keygen",
      "mail.acme.example",
      "s2026",
      "--type",
      "ed25519",
      "-c",
      join(dir, "with-secret.yaml"),
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/stored for tenant acme/);
    const txt =
      /^s2026\._domainkey\.mail\.acme\.example\. IN TXT "v=DKIM1; k=ed25519; p=([A-Za-z0-9+/=]+)"$/m.exec(
        r.stdout,
      );
    expect(txt).not.toBeNull();

    const row = new DatabaseSync(db)
      .prepare("SELECT * FROM dkim_key WHERE domain = ? AND selector = ?")
      .get("mail.acme.example", "s2026") as Record<string, unknown>;
    expect(row.tenant).toBe("acme");
    expect(row.algorithm).toBe("ed25519-sha256");
    const blob = Buffer.from(row.sealed_key as Uint8Array);
    // The PEM is nowhere in the row, in any encoding an attacker might grep for.
    const pem = openPrivateKey(blob, Buffer.from(secretHex, "hex"), "mail.acme.example", "s2026");
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const body = pem.replace(/-----[^-]+-----|\s/g, "");
    for (const needle of ["PRIVATE KEY", body, body.slice(10, 40)]) {
      expect(blob.includes(needle)).toBe(false);
      expect(blob.includes(Buffer.from(needle, "base64"))).toBe(false);
      expect(JSON.stringify(row).includes(needle)).toBe(false);
    }
    // It decrypts back to the key whose public half the printed record publishes.
    expect(dkimPublicValue(createPublicKey(pem))).toBe(txt![1]);
    expect(row.public_key).toBe(txt![1]);
  });

  it("lists stored keys with their records", async () => {
    const r = await run(["dkim", "list", "-c", join(dir, "with-secret.yaml"), "--tenant", "acme"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^mail\.acme\.example\ts2026\ted25519-sha256\tacme\t/m);
    expect(r.stdout).toMatch(/s2026\._domainkey\.mail\.acme\.example\. IN TXT "v=DKIM1; k=ed25519; p=/);
  });

  it("still writes a PEM file with --out (no store involved)", async () => {
    const out = join(dir, "k.pem");
    const r = await run(["dkim", "keygen", "example.com", "sel1", "--out", out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^private key written to /);
    expect(r.stdout).toMatch(/^sel1\._domainkey\.example\.com\. IN TXT "v=DKIM1; k=rsa; p=/m);
  });
});
