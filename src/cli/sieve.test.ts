// `sluice sieve check` and `sluice sieve run` in process: warnings apart from errors (exit 0 vs 2),
// includes from the given directories, and a run on a stored quarantine entry.
import { afterEach, describe, expect, it, vi } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { sieveCheck, sieveRun } from "./sieve.ts";
import { SqliteStore } from "../store/sqlite.ts";
import { emptyEnvelope } from "../message/envelope.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "sluice-sieve-cli-"));

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((s) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, "write").mockImplementation((s) => (err.push(String(s)), true));
  return { out: () => out.join(""), err: () => err.join("") };
}
afterEach(() => vi.restoreAllMocks());

describe("sluice sieve check", () => {
  it("reports warnings apart from errors and exits 0 with warnings only", () => {
    const file = join(dir, "warn.sieve");
    writeFileSync(
      file,
      'require "editheader";\nif header :contains "a b" "x" { deleteheader "Received"; }\n',
    );
    const io = capture();
    expect(sieveCheck([file])).toBe(0);
    expect(io.out()).toBe(`${file}: ok (2 warnings)\n`);
    expect(io.err().split("\n")).toEqual([
      `${file}:2:21: warning: invalid header name "a b": this test never matches it`,
      `${file}:2:46: warning: header "Received" is protected and cannot be deleted; the edit will be skipped`,
      "",
    ]);
  });

  it("exits 2 on errors and compiles includes from the given directories", () => {
    const bad = join(dir, "bad.sieve");
    writeFileSync(bad, "keep\n");
    const tenant = join(ROOT, "examples/sieve/tenant-gateway.sieve");
    let io = capture();
    expect(sieveCheck([bad, tenant])).toBe(2);
    expect(io.err()).toContain(`${bad}:2:1: expected ";" after command "keep"`);
    expect(io.err()).toMatch(/no global script directory is configured/);
    vi.restoreAllMocks();
    io = capture();
    const ok = sieveCheck([tenant], {
      globalDir: join(ROOT, "examples/sieve/global"),
      notifyDomain: ["corp.example"],
    });
    expect(io.err()).toBe("");
    expect(ok).toBe(0);
  });
});

describe("sluice sieve run --quarantine", () => {
  it("runs a script on a stored message with its envelope and symbols", async () => {
    const db = join(dir, "store.db");
    const cfg = join(dir, "sluice.yaml");
    writeFileSync(
      cfg,
      `store: sqlite:${db}\nlog: { level: warn }\ntenants:\n  - { id: corp, domains: [corp.example] }\n`,
    );
    const store = new SqliteStore(db);
    await store.migrate();
    const env = emptyEnvelope("inbound");
    env.mailFrom = { address: "mallory@outside.example", params: {} };
    env.recipients = [{ address: "alice@corp.example", params: {} }];
    await store.putQuarantine({
      id: "SQ1",
      tenant: "corp",
      envelope: env,
      score: 11,
      symbols: [{ name: "BAYES_SPAM", score: 11 }],
      subject: "x",
      message: Buffer.from(
        'Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/octet-stream; name="a.exe"\r\n\r\nMZ\r\n--b--\r\n',
      ),
      recipients: [{ address: "alice@corp.example", reason: "spam" }],
    });
    await store.close();
    const script = join(dir, "run.sieve");
    writeFileSync(
      script,
      `require ["foreverypart", "mime", "envelope", "variables", "fileinto", "vnd.sluice.symbols"];
if allof (symbol :over 10 "BAYES_SPAM", envelope :is "to" "alice@corp.example") {
  foreverypart { if header :mime :param "name" :matches "Content-Type" "*.exe" { fileinto "exe-\${1}"; } }
}`,
    );
    const io = capture();
    expect(await sieveRun(script, undefined, { quarantine: "SQ1", config: cfg })).toBe(0);
    expect(
      io
        .out()
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l)),
    ).toEqual([{ type: "fileinto", folder: "exe-a", copy: false }]);
  });
});
