import { describe, it, expect } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import pino from "pino";
import { Runtime } from "../../runtime.ts";
import { ConfigError } from "../../config/errors.ts";
import type { Session } from "../../pipeline/session.ts";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const MISDELIVERY = join(ROOT, "examples/sieve/misdelivery-hold.sieve");
const dir = mkdtempSync(join(tmpdir(), "sluice-sieve-"));

function config(sieve: string): string {
  return `
policy:
  filters:
    auth: { enabled: false }
    dkim_sign: { enabled: false }
    spam-classifier: { enabled: false }
    sieve: { options: ${sieve} }
tenants:
  - id: example
    domains: [example.com, example.co.jp]
    users:
      - { address: alice@example.com }
      - { address: bob@example.com }
`;
}

async function runtime(sieve: string) {
  return Runtime.create({ configText: config(sieve), store: "never", logger: pino({ level: "silent" }) });
}

const WITH_ATTACHMENT = [
  "From: alice@example.com",
  "To: someone",
  "Subject: report",
  "MIME-Version: 1.0",
  'Content-Type: multipart/mixed; boundary="b"',
  "",
  "--b",
  "Content-Type: text/plain",
  "",
  "see attached",
  "--b",
  'Content-Type: application/pdf; name="r.pdf"',
  'Content-Disposition: attachment; filename="r.pdf"',
  "Content-Transfer-Encoding: base64",
  "",
  Buffer.from("%PDF-1.4 test").toString("base64"),
  "--b--",
  "",
].join("\r\n");

async function send(s: Session, auth: string | null, from: string, rcpts: string[], body: string) {
  await s.connect({ ingress: auth ? "submission" : "inbound", address: "192.0.2.9", localName: "mx.test" });
  await s.helo("client.test");
  s.setAuth(auth);
  await s.mail(from, {});
  for (const r of rcpts) await s.rcpt(r, {});
  const w = s.beginData();
  await w.write(Buffer.from(body));
  await w.end();
  return s.data();
}

describe("sieve filter", () => {
  it("holds outbound mail with an attachment to an outside domain (shipped mis-delivery example)", async () => {
    const rt = await runtime(`{ outbound: [${JSON.stringify(MISDELIVERY)}] }`);
    const res = await send(
      rt.newSession(),
      "alice@example.com",
      "alice@example.com",
      ["partner@other.org", "bob@example.com"],
      WITH_ATTACHMENT,
    );
    const partner = res.verdicts.find((v) => v.address === "partner@other.org")!;
    const bob = res.verdicts.find((v) => v.address === "bob@example.com")!;
    expect(partner.action).toBe("hold");
    expect(partner.symbols.map((s) => s.name)).toEqual(
      expect.arrayContaining(["SIEVE_HOLD", "SIEVE_NOTIFY"]),
    );
    expect(bob.action).toBe("accept");
    const held = res.groups.find((g) => g.disposition === "hold")!;
    expect(held).toMatchObject({
      recipients: ["partner@other.org"],
      holdMinutes: 5,
      reason: "attachment to an external recipient",
    });
  });

  it("does not hold the same message without an attachment, nor run outbound scripts for inbound mail", async () => {
    const rt = await runtime(`{ outbound: [${JSON.stringify(MISDELIVERY)}] }`);
    const plain = "From: alice@example.com\r\nSubject: hi\r\n\r\nhello\r\n";
    const out = await send(
      rt.newSession(),
      "alice@example.com",
      "alice@example.com",
      ["partner@other.org"],
      plain,
    );
    expect(out.verdicts[0]!.action).toBe("accept");
    const inbound = await send(rt.newSession(), null, "x@other.org", ["bob@example.com"], WITH_ATTACHMENT);
    expect(inbound.verdicts[0]!.symbols.map((s) => s.name)).not.toContain("SIEVE_HOLD");
  });

  it("maps reject, editheader and fileinto onto pipeline actions", async () => {
    const script = join(dir, "inbound.sieve");
    writeFileSync(
      script,
      `require ["reject", "editheader", "fileinto", "envelope"];
addheader "X-Policy" "checked ✓";
if envelope :domain "from" "blocked.example" { reject "We do not take mail from you"; }
elsif header :contains "subject" "invoice" { fileinto "Invoices"; }
`,
    );
    const rt = await runtime(`{ inbound: [${JSON.stringify(script)}] }`);
    const rej = await send(
      rt.newSession(),
      null,
      "a@blocked.example",
      ["bob@example.com"],
      "Subject: x\r\n\r\nx\r\n",
    );
    expect(rej.reply).toMatchObject({ code: 550, enhanced: "5.7.1" });
    expect(rej.reply!.text).toMatch(/^We do not take mail from you \[ref /);
    const q = await send(
      rt.newSession(),
      null,
      "a@ok.example",
      ["bob@example.com"],
      "Subject: your invoice\r\n\r\nx\r\n",
    );
    expect(q.groups[0]).toMatchObject({
      disposition: "quarantine",
      reason: `sieve ${script}: fileinto Invoices`,
    });
    const ok = await send(
      rt.newSession(),
      null,
      "a@ok.example",
      ["bob@example.com"],
      "Subject: hello\r\n\r\nx\r\n",
    );
    expect(ok.groups[0]!.edits).toContainEqual({
      op: "add",
      name: "X-Policy",
      value: "checked =?UTF-8?Q?=E2=9C=93?=",
      top: true,
    });
  });

  it("refuses a configuration whose script does not compile, naming FILE:LINE:COL", async () => {
    const bad = join(dir, "bad.sieve");
    writeFileSync(bad, 'require "fileinto";\nif header :contains "subject" "x" {\n  fileinto "a"\n}\n');
    const err = await runtime(`{ inbound: [${JSON.stringify(bad)}] }`).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(
      new RegExp(
        `policy\\.filters\\.sieve\\.options: ${bad.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:4:1: expected ";"`,
      ),
    );
  });

  it("uses the scripts compiled with the configuration revision: a changed file counts from the next revision", async () => {
    const file = join(dir, "revision.sieve");
    writeFileSync(file, 'require "reject";\nif header :contains "subject" "bad" { reject "first"; }\n');
    const rt = await runtime(`{ inbound: [${JSON.stringify(file)}] }`);
    const msg = "From: x@other.org\r\nSubject: bad\r\n\r\nhi\r\n";
    const action = async () => {
      const res = await send(rt.newSession(), null, "x@other.org", ["alice@example.com"], msg);
      return res.verdicts[0]!.action;
    };
    expect(await action()).toBe("reject");
    // Edited on disk: messages keep the revision's script (no stat per message) …
    writeFileSync(file, "keep;\n");
    expect(await action()).toBe("reject");
    // … until a new revision is applied.
    rt.applyConfigText(config(`{ inbound: [${JSON.stringify(file)}] }`), "revision 2");
    expect(await action()).not.toBe("reject");
  });
});
