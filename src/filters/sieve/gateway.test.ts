// The Sieve filter as a gateway: the operator's shared scripts (include :global) validated with
// the tenant's when the configuration loads, zip members seen by foreverypart (vnd.sluice.archive),
// and enotify sent through the tenant's notification path inside its allow-list and hourly budget.
import { describe, expect, it } from "vitest";
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import pino from "pino";
import { Runtime } from "../../runtime.ts";
import { ConfigError } from "../../config/errors.ts";
import type { Session } from "../../pipeline/session.ts";
import { makeZip } from "../../../test/helpers/clamd.ts";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const dir = mkdtempSync(join(tmpdir(), "sluice-sieve-gw-"));
const globalDir = join(dir, "global");
mkdirSync(globalDir);
copyFileSync(
  join(ROOT, "examples/sieve/global/executable-attachments.sieve"),
  join(globalDir, "executable-attachments.sieve"),
);
const TENANT = join(ROOT, "examples/sieve/tenant-gateway.sieve");

function config(
  tenantOptions: string,
  globalOptions = `{ global_dir: ${JSON.stringify(globalDir)} }`,
): string {
  return `
policy:
  filters:
    auth: { enabled: false }
    dkim_sign: { enabled: false }
    spam-classifier: { enabled: false }
    sieve: { options: ${globalOptions} }
tenants:
  - id: corp
    domains: [corp.example]
    policy:
      filters:
        sieve: { options: ${tenantOptions} }
    users:
      - { address: alice@corp.example }
`;
}

const runtime = (text: string) =>
  Runtime.create({ configText: text, store: "never", logger: pino({ level: "silent" }) });

function message(filename: string, data: Buffer, extra = ""): string {
  return [
    "From: mallory@outside.example",
    "To: alice@corp.example",
    "Subject: invoice",
    extra,
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="b"',
    "",
    "--b",
    "Content-Type: text/plain",
    "",
    "see attached",
    "--b",
    `Content-Type: application/octet-stream; name="${filename}"`,
    `Content-Disposition: attachment; filename="${filename}"`,
    "Content-Transfer-Encoding: base64",
    "",
    data.toString("base64"),
    "--b--",
    "",
  ]
    .filter((l, i) => i !== 3 || l !== "")
    .join("\r\n");
}

async function send(s: Session, body: string) {
  await s.connect({ ingress: "inbound", address: "192.0.2.9", localName: "mx.test" });
  await s.helo("client.test");
  await s.mail("mallory@outside.example", {});
  await s.rcpt("alice@corp.example", {});
  const w = s.beginData();
  await w.write(Buffer.from(body));
  await w.end();
  return s.data();
}

const exe = Buffer.concat([Buffer.from("MZ"), Buffer.alloc(200)]);
const tenant = (extra = "") =>
  `{ inbound: [${JSON.stringify(TENANT)}], enotify: { domains: [corp.example] }${extra} }`;

describe("sieve filter as a gateway", () => {
  it("quarantines a zip with an executable inside and notifies the security desk", async () => {
    const rt = await runtime(config(tenant()));
    const zip = makeZip([
      { name: "invoice.pdf", data: Buffer.from("%PDF-1.4") },
      { name: "setup.bin", data: exe, deflate: true },
    ]);
    const res = await send(rt.newSession(), message("invoice.zip", zip));
    const v = res.verdicts[0]!;
    expect(v.action).toBe("quarantine");
    expect(res.groups[0]).toMatchObject({
      disposition: "quarantine",
      reason: "executable attachment setup.bin",
    });
    expect(v.symbols.map((s) => s.name)).toEqual(
      expect.arrayContaining(["SIEVE_QUARANTINE", "SIEVE_ENOTIFY"]),
    );
    const n = res.notifications!.find((x) => x.to === "security@corp.example")!;
    const text = n.message.toString();
    expect(text).toMatch(/^From: postmaster@corp\.example/m);
    expect(text).toMatch(/^Auto-Submitted: auto-notified/m);
    expect(text).toMatch(/^Subject: Executable quarantined/m);
  });

  it("lets a zip of documents through", async () => {
    const rt = await runtime(config(tenant()));
    const zip = makeZip([{ name: "invoice.pdf", data: Buffer.from("%PDF-1.4") }]);
    const res = await send(rt.newSession(), message("docs.zip", zip));
    expect(res.verdicts[0]!.action).toBe("accept");
  });

  it("sends no notification in answer to an automatic message, and keeps to the hourly budget", async () => {
    const rt = await runtime(
      config(
        tenant(", enotify: { domains: [corp.example], max_per_hour: 1 }").replace(
          ", enotify: { domains: [corp.example] }",
          "",
        ),
      ),
    );
    const auto = await send(rt.newSession(), message("a.exe", exe, "Auto-Submitted: auto-replied"));
    expect(auto.verdicts[0]!.symbols.find((s) => s.name === "SIEVE_ENOTIFY_REFUSED")?.detail).toMatch(
      /automatic/,
    );
    const first = await send(rt.newSession(), message("a.exe", exe));
    expect(first.verdicts[0]!.symbols.map((s) => s.name)).toContain("SIEVE_ENOTIFY");
    const second = await send(rt.newSession(), message("a.exe", exe));
    expect(second.verdicts[0]!.symbols.find((s) => s.name === "SIEVE_ENOTIFY_REFUSED")?.detail).toMatch(
      /rate limit \(1 per hour\)/,
    );
  });

  it("refuses the configuration when the allow-list does not cover a notification target", async () => {
    const err = await runtime(
      config(`{ inbound: [${JSON.stringify(TENANT)}], enotify: { domains: [other.example] } }`),
    ).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/security@corp\.example is not in the allowed notification domains/);
  });

  it("refuses the configuration naming the included file and line of an error in it", async () => {
    const broken = join(dir, "broken-global");
    mkdirSync(broken);
    writeFileSync(
      join(broken, "executable-attachments.sieve"),
      'require "mime";\nif header :mime :type "Content-Type" "x" {\n  keep\n}\n',
    );
    const err = await runtime(config(tenant(), `{ global_dir: ${JSON.stringify(broken)} }`)).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain(
      `${join(broken, "executable-attachments.sieve")}:4:1: expected ";" after command "keep"`,
    );
    expect(err.message).toMatch(/tenants\[0\]\.policy\.filters\.sieve\.options/);
  });
});
