// Mis-delivery prevention through the pipeline with a real store: the first message from a
// sender to an outside address is held for confirmation; once the message log knows the pair,
// the next one goes straight through.
import { describe, it, expect } from "vitest";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import pino from "pino";
import { Runtime } from "../../src/runtime.ts";

async function send(rt: Runtime, to: string) {
  const s = rt.newSession();
  await s.connect({ ingress: "submission", address: "192.0.2.7", localName: "mx.test" });
  await s.helo("client.test");
  s.setAuth("alice@example.com");
  await s.mail("alice@example.com", {});
  await s.rcpt(to, {});
  const w = s.beginData();
  await w.write(Buffer.from(`From: alice@example.com\r\nTo: ${to}\r\nSubject: hello\r\n\r\nhi\r\n`));
  await w.end();
  const res = await s.data();
  await s.close();
  return res;
}

describe("first-time external recipient", () => {
  it("holds the first message to a new outside address, not the next one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-first-"));
    const rt = await Runtime.create({
      configText: `store: sqlite:${dir}/s.db
policy:
  filters:
    auth: { enabled: false }
    dkim_sign: { enabled: false }
    spam-classifier: { enabled: false }
    hold_options: { enabled: true, options: { internal_domains: [example.com], first_time_external: { minutes: 45 } } }
tenants:
  - id: example
    domains: [example.com]
    users: [{ address: alice@example.com }]
`,
      logger: pino({ level: "silent" }),
    });
    try {
      const first = await send(rt, "partner@other.org");
      expect(first.verdicts[0]!.action).toBe("hold");
      expect(first.groups[0]).toMatchObject({ disposition: "hold", holdMinutes: 45 });
      const second = await send(rt, "partner@other.org");
      expect(second.verdicts[0]!.action).toBe("accept");
      const other = await send(rt, "someone@third.org");
      expect(other.verdicts[0]!.action).toBe("hold");
    } finally {
      await rt.close();
    }
  });
});
