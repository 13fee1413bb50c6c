// Notifications after end of message through the milter, wired as `sluice serve` wires it
// (src/milter/start.ts): a private Postfix with Sluice's milter, the real pipeline with an
// outbound Sieve script using notify_template; the notice goes from the null sender through the
// recipient's next hop once Postfix has accepted the message. Needs the Debian package `postfix`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MilterServer } from "../../src/milter/server.ts";
import type { Runtime } from "../../src/runtime.ts";
import { postfixAvailable, startPostfix, type PostfixInstance } from "../helpers/postfix.ts";
import { freePort } from "../helpers/ports.ts";
import { SmtpSink } from "../helpers/sink.ts";
import { SmtpClient } from "../helpers/smtp-dialog.ts";

const available = postfixAvailable();

const SCRIPT = `require ["vnd.sluice.notify"];
if header :contains "subject" "check me" {
    notify_template :to "recipient" "misdelivery-hold";
}
`;

describe.skipIf(!available)("milter: notifications after commit", () => {
  let dir: string;
  let sink: SmtpSink;
  let pf: PostfixInstance;
  let rt: Runtime;
  let server: MilterServer | null;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sluice-milter-notify-"));
    const script = join(dir, "notify.sieve");
    await writeFile(script, SCRIPT);
    sink = new SmtpSink();
    await sink.start();
    const milterPort = await freePort();
    const config = `
store: sqlite:${dir}/store.db
delivery: smtp://127.0.0.1:${sink.port}
smtp:
  hostname: mx.sluice.test
  limits: { next_hop_timeout_s: 5 }
milter:
  listen: ["inet:127.0.0.1:${milterPort}"]
  progress_interval_ms: 1000
policy:
  filters:
    sieve:
      options:
        outbound: [${JSON.stringify(script)}]
        templates:
          misdelivery-hold:
            en: { subject: "Please check the recipient of: {subject}", body: "Sent by {sender} to {recipient}, ref {ref}.\\n" }
tenants:
  - id: example
    domains: [example.com]
    users:
      - { address: alice@example.com }
`;
    const { Runtime } = await import("../../src/runtime.ts");
    const { startMilter } = await import("../../src/milter/start.ts");
    rt = await Runtime.create({ configText: config, store: "never", logger: pino({ level: "warn" }) });
    server = await startMilter(rt, pino({ level: "warn" }));
    pf = await startPostfix({
      sinkPort: sink.port,
      milter: `inet:127.0.0.1:${milterPort}`,
      // No SASL here: Postfix sends this default for {auth_authen}, so the message is outbound.
      extra: ["milter_macro_defaults = { {auth_authen} = alice@example.com }"],
    });
  });

  afterAll(async () => {
    await pf?.stop();
    await server?.close();
    await rt?.close();
    await sink?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("a Sieve notify_template notice reaches the recipient's next hop from the null sender", async () => {
    const c = await SmtpClient.open(pf.smtpPort);
    await c.cmd("EHLO client.test");
    const body = (subject: string) =>
      `From: alice@example.com\nTo: partner@other.org\nSubject: ${subject}\n\nHello.\n`;
    const first = await c.send("alice@example.com", ["partner@other.org"], body("please check me"));
    // A message the script does not match: delivered, no notice.
    const second = await c.send("alice@example.com", ["partner@other.org"], body("plain one"));
    await c.quit();
    expect(first.code).toBe(250);
    expect(second.code).toBe(250);
    await sink.waitFor(3, 20_000).catch(async (err: Error) => {
      throw new Error(`${err.message}; maillog:\n${await pf.maillog()}`);
    });
    await new Promise((r) => setTimeout(r, 500)); // nothing more may arrive
    const notices = sink.messages.filter((m) => m.from === "");
    const mail = sink.messages.filter((m) => m.from === "alice@example.com");
    expect(mail.map((m) => /Subject: (.*)\r\n/.exec(m.data)![1]).sort()).toEqual([
      "plain one",
      "please check me",
    ]);
    expect(notices).toHaveLength(1);
    const n = notices[0]!;
    expect(n.to).toEqual(["partner@other.org"]);
    expect(n.data).toMatch(/^Subject: Please check the recipient of: please check me\r$/m);
    expect(n.data).toMatch(/Sent by alice@example.com to partner@other.org, ref \w+\./);
    // The notice came straight from Sluice, not through Postfix.
    expect(n.data).not.toMatch(/^Received: .*mx\.sluice\.test/m);
  });
});
