// The files a configuration names are found wherever they sit (listeners, web, secrets, DKIM/ARC
// keys in any policy layer, a spam model) and each unreadable one is reported with its line.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { fileSettings, unreadableFiles } from "./files.ts";

const dir = mkdtempSync(join(tmpdir(), "sluice-files-"));
const cert = join(dir, "cert.pem");
writeFileSync(cert, "x");
const missing = join(dir, "missing.pem");

const TEXT = `secrets:
  key_file: ${missing}
smtp:
  tls: { cert: ${cert}, key: ${missing} }
policy:
  filters:
    spam-classifier: { options: { model: ${missing} } }
tenants:
  - id: a
    domains: [a.example]
    policy:
      filters:
        dkim_sign: { options: { keys: [{ domain: a.example, selector: s, private_key_file: ${cert} }] } }
  - id: b
    domains: [b.example]
    # not a file setting: a tenant's notice key field called "key" outside tls
    notices: { key: not-a-file }
`;

describe("files a configuration names", () => {
  it("finds every file setting with its place, and nothing else", () => {
    const found = fileSettings(parseDocument(TEXT).toJS()).map((s) => [s.at.join("."), s.file]);
    expect(found).toEqual([
      ["secrets.key_file", missing],
      ["smtp.tls.cert", cert],
      ["smtp.tls.key", missing],
      ["policy.filters.spam-classifier.options.model", missing],
      ["tenants.0.policy.filters.dkim_sign.options.keys.0.private_key_file", cert],
    ]);
  });

  it("reports each unreadable file as FILE:LINE: path: cannot read …", async () => {
    const issues = await unreadableFiles(TEXT, "s.yaml");
    expect(issues.map((i) => [i.line, i.path, i.message])).toEqual([
      [2, "secrets.key_file", `cannot read ${missing} (ENOENT)`],
      [4, "smtp.tls.key", `cannot read ${missing} (ENOENT)`],
      [7, "policy.filters.spam-classifier.options.model", `cannot read ${missing} (ENOENT)`],
    ]);
  });
});
