// A running node signs outbound mail with the DKIM key kept (sealed) in its store: the runtime
// hands the store and the node's secret to the signing filter.
import { describe, it, expect } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { tmpdir } from "node:os";
import pino from "pino";
import { Runtime } from "../../src/runtime.ts";
import { openStore } from "../../src/store/open.ts";
import { createStoredKey } from "../../src/filters/auth/key-store.ts";

describe("runtime DKIM signing from the store", () => {
  it("signs mail from an authenticated sender with the stored key of the From domain", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-rtdkim-"));
    const secret = randomBytes(32);
    writeFileSync(join(dir, "secret.key"), secret.toString("hex"));
    const store = await openStore(`sqlite:${dir}/s.db`);
    await createStoredKey(store, secret, {
      domain: "example.com",
      selector: "s1",
      tenant: "example",
      type: "ed25519",
    });
    await store.close();
    const rt = await Runtime.create({
      configText: `store: sqlite:${dir}/s.db
secrets: { key_file: ${dir}/secret.key }
policy:
  filters:
    auth: { enabled: false }
    spam-classifier: { enabled: false }
tenants:
  - id: example
    domains: [example.com]
    users: [{ address: alice@example.com }]
`,
      logger: pino({ level: "silent" }),
    });
    try {
      const s = rt.newSession();
      await s.connect({ ingress: "submission", address: "192.0.2.5", localName: "mx.test" });
      await s.helo("client.test");
      s.setAuth("alice@example.com");
      await s.mail("alice@example.com", {});
      await s.rcpt("friend@elsewhere.org", {});
      const w = s.beginData();
      await w.write(
        Buffer.from(
          "From: alice@example.com\r\nTo: friend@elsewhere.org\r\nSubject: hi\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\nMessage-ID: <1@example.com>\r\n\r\nhello\r\n",
        ),
      );
      await w.end();
      const res = await s.data();
      const sig = res.groups[0]!.edits.find((e) => e.name === "DKIM-Signature");
      expect(sig?.value).toMatch(/a=ed25519-sha256/);
      expect(sig?.value).toMatch(/d=example\.com/);
      expect(sig?.value).toMatch(/s=s1/);
    } finally {
      await rt.close();
    }
  });
});
