// Notices that are correct mail (issue 23, item 3): a Sieve notice and a hold notice for outbound
// mail to an outside domain come from the sender's tenant's configured address on its own domain
// (never the outside recipient's domain, never the node's host name), DKIM-signed with the
// tenant's stored key, in the tenant's language (ja); one held message gives one notice.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { dkimVerify } from "mailauth";
import { simpleParser } from "mailparser";
import pino from "pino";
import { startProxy, type Proxy } from "../helpers/proxy.ts";
import { Runtime } from "../../src/runtime.ts";
import { SmtpSink } from "../helpers/sink.ts";
import { SmtpClient } from "../helpers/smtp-dialog.ts";
import { hashPassword } from "../../src/policy/password.ts";
import { createStoredKey } from "../../src/filters/auth/key-store.ts";
import { holdTick } from "../../src/quarantine/hold-scheduler.ts";
import { routesFor } from "../../src/quarantine/release.ts";
import { runDigests } from "../../src/quarantine/digest.ts";
import { quarantineInput } from "../helpers/web.ts";

const keyDir = mkdtempSync(join(tmpdir(), "sluice-notices-"));
const secret = randomBytes(32);
writeFileSync(join(keyDir, "secret.key"), secret.toString("hex"));
writeFileSync(
  join(keyDir, "outbound.sieve"),
  `require ["vnd.sluice.hold", "vnd.sluice.notify"];
if header :contains "subject" "HOLD" {
  hold :minutes 5 :reason "external recipient";
  notify_template :to "sender" "misdelivery-hold";
} elsif header :contains "subject" "NOTE" {
  notify_template :to "sender" "misdelivery-hold";
}
`,
);

describe("notices from the tenant", { timeout: 60_000 }, () => {
  let proxy: Proxy;
  const sink = new SmtpSink();
  let txt = "";

  beforeAll(async () => {
    await sink.start();
    const hash = await hashPassword("alice-pass-1");
    proxy = await startProxy(
      (dir) => `
node: { name: node1, link_secret: "notices-link-secret-0123456789abcdef" }
store: sqlite:${dir}/s.db
delivery: smtp://127.0.0.1:${sink.port}
secrets: { key_file: ${keyDir}/secret.key }
smtp:
  hostname: node1.internal.test
  listeners:
    submission: { listen: "127.0.0.1:0", allow_insecure_auth: true }
policy:
  filters:
    auth: { enabled: false }
    spam-classifier: { enabled: false }
    sieve: { options: { outbound: [${JSON.stringify(join(keyDir, "outbound.sieve"))}] } }
tenants:
  - id: acme
    domains: [acme.test]
    language: ja
    notices: { from: notices@acme.test }
    hold: { link_base: "https://console.acme.test/link" }
    quarantine: { digest: { enabled: true, link_base: "https://console.acme.test/q" } }
    users:
      - { address: alice@acme.test, password_hash: "${hash}" }
`,
    );
    const { pair } = await createStoredKey(proxy.runtime.store!, secret, {
      domain: "acme.test",
      selector: "n1",
      tenant: "acme",
      type: "ed25519",
    });
    txt = pair.dnsTxt;
  });
  afterAll(async () => {
    await proxy?.close();
    await sink.stop();
  });

  const submit = async (subject: string) => {
    const c = await SmtpClient.open(proxy.port("submission"));
    await c.cmd("EHLO client.acme.test");
    const auth = Buffer.from("\0alice@acme.test\0alice-pass-1").toString("base64");
    expect((await c.cmd(`AUTH PLAIN ${auth}`)).code).toBe(235);
    const r = await c.send(
      "alice@acme.test",
      ["partner@outside.example"],
      `From: alice@acme.test\r\nTo: partner@outside.example\r\nSubject: ${subject}\r\n\r\nhello\r\n`,
    );
    await c.quit();
    expect(r.code).toBe(250);
  };
  const noticesTo = (a: string) => sink.messages.filter((m) => m.from === "" && m.to.includes(a));
  const verify = async (raw: string) => {
    const res = await dkimVerify(Buffer.from(raw), {
      resolver: async (name: string, type: string) => {
        if (type === "TXT" && name === "n1._domainkey.acme.test") return [[txt]];
        throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
      },
    } as never);
    return (res as { results: { status: { result: string }; signingDomain: string }[] }).results;
  };
  const settle = () => new Promise((r) => setTimeout(r, 300));

  it("a Sieve notice to the sender of outbound mail: the tenant's From, signed, in Japanese", async () => {
    await submit("NOTE one");
    await settle();
    const [n, ...more] = noticesTo("alice@acme.test");
    expect(more).toEqual([]);
    const parsed = await simpleParser(Buffer.from(n!.data));
    expect(parsed.from?.value[0]?.address).toBe("notices@acme.test");
    expect(n!.data).not.toMatch(/^From:.*outside\.example/im);
    expect(parsed.subject).toMatch(/^送信メールを/);
    const results = await verify(n!.data);
    expect(results.map((r) => [r.signingDomain, r.status.result])).toEqual([["acme.test", "pass"]]);
  });

  it("a held message gives one notice, the hold queue's: the tenant's From, signed, in Japanese", async () => {
    const before = noticesTo("alice@acme.test").length;
    await submit("HOLD two");
    await settle();
    expect(noticesTo("alice@acme.test").length).toBe(before);
    const held = await proxy.runtime.store!.listHolds({ state: "held" });
    expect(held.length).toBe(1);
    await holdTick(proxy.runtime, routesFor(proxy.runtime));
    await holdTick(proxy.runtime, routesFor(proxy.runtime));
    const all = noticesTo("alice@acme.test");
    expect(all.length).toBe(before + 1);
    const n = all[all.length - 1]!;
    const parsed = await simpleParser(Buffer.from(n.data));
    expect(parsed.from?.value[0]?.address).toBe("notices@acme.test");
    expect(n.data).not.toContain("node1.internal.test>");
    expect(parsed.subject).toBe("送信を保留しています: HOLD two");
    expect(parsed.text).toContain("今すぐ送信: https://console.acme.test/link?t=");
    const results = await verify(n.data);
    expect(results.map((r) => [r.signingDomain, r.status.result])).toEqual([["acme.test", "pass"]]);
  });

  it("the quarantine digest: the tenant's From, signed, in Japanese", async () => {
    await proxy.runtime.store!.putQuarantine(
      quarantineInput("QDIGEST1", "acme", ["alice@acme.test"], "Subject: win\n\nbuy\n", "You have won"),
    );
    const before = noticesTo("alice@acme.test").length;
    const res = await runDigests(proxy.runtime, routesFor(proxy.runtime), { force: true, tenantId: "acme" });
    expect(res[0]?.sent).toEqual(["alice@acme.test"]);
    const all = noticesTo("alice@acme.test");
    expect(all.length).toBe(before + 1);
    const n = all[all.length - 1]!;
    const parsed = await simpleParser(Buffer.from(n.data));
    expect(parsed.from?.value[0]?.address).toBe("notices@acme.test");
    expect(parsed.subject).toBe("隔離メールのお知らせ: 新着 1 件");
    const results = await verify(n.data);
    expect(results.map((r) => [r.signingDomain, r.status.result])).toEqual([["acme.test", "pass"]]);
  });

  it("a notice sender on another domain than the tenant's is refused when the configuration loads", async () => {
    await expect(
      Runtime.create({
        configText: `store: "sqlite::memory:"\ntenants:\n  - id: acme\n    domains: [acme.test]\n    notices: { from: postmaster@isp.example }\n`,
        store: "never",
        logger: pino({ level: "silent" }),
      }),
    ).rejects.toThrow(
      /tenants\[0\]\.notices\.from: postmaster@isp\.example is not on a domain of this tenant/,
    );
  });
});
