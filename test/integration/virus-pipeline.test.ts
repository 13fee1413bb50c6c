// The virus filter through the whole pipeline (Runtime + Session) with a real clamd: a virus is
// rejected 554 5.7.1 naming it, or quarantined per tenant with notifications in the recipient's
// language; blocked attachments; a dead scanner gives 451 4.7.1 or the header, and is counted.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { simpleParser } from "mailparser";
import { Runtime } from "../../src/runtime.ts";
import { notificationsFor, virusFilter } from "../../src/filters/virus/index.ts";
import type { ActionType } from "../../src/pipeline/types.ts";
import { freePort } from "../helpers/ports.ts";
import { EICAR, haveClamd, makeZip, mimeMessage, startClamd, type Clamd } from "../helpers/clamd.ts";

const have = haveClamd();

function config(port: number, dead: number): string {
  return `
store: "sqlite::memory:"
policy:
  spam_filter: false
  filters:
    virus:
      enabled: true
      options:
        clamd: [{ host: 127.0.0.1, port: ${port} }]
        max_bytes: 52428800
tenants:
  - id: acme
    domains: [acme.example]
    language: en
    users:
      - address: bob@acme.example
  - id: nihon
    domains: [nihon.example]
    language: ja
    users:
      - address: taro@nihon.example
      - address: jane@nihon.example
        language: en
    policy:
      filters:
        virus:
          options:
            clamd: [{ host: 127.0.0.1, port: ${port} }]
            action: quarantine
            notify:
              admin: admin@nihon.example
              templates:
                recipient:
                  ja: { subject: "【隔離】{subject}", body: "ウイルス {virus} を検出しました。隔離ID: {quarantine_id}" }
  - id: down
    domains: [down.example]
    users:
      - address: carol@down.example
      - address: dave@down.example
    policy:
      filters:
        virus:
          options: { clamd: [{ host: 127.0.0.1, port: ${dead} }], timeout_ms: 2000 }
  - id: lenient
    domains: [lenient.example]
    users:
      - address: erin@lenient.example
    policy:
      filters:
        virus:
          options: { clamd: [{ host: 127.0.0.1, port: ${dead} }], on_unavailable: header }
`;
}

describe.skipIf(!have)("virus filter in the pipeline", () => {
  let clamd: Clamd;
  let runtime: Runtime;
  const filter = virusFilter();
  beforeAll(async () => {
    clamd = await startClamd();
    runtime = await Runtime.create({
      configText: config(clamd.port, await freePort()),
      store: "never",
      extraFilters: [filter],
      logger: pino({ level: "silent" }),
    });
  }, 60_000);
  afterAll(async () => {
    filter.close();
    await runtime?.close();
    await clamd?.stop();
  });

  async function deliver(rcpts: string[], bytes: Buffer, opts: { from?: string; auth?: string } = {}) {
    const s = runtime.newSession();
    try {
      const ingress = opts.auth ? "submission" : "inbound";
      expect((await s.connect({ ingress, address: "192.0.2.1", localName: "mx.example" })).ok).toBe(true);
      await s.helo("client.example");
      if (opts.auth) s.setAuth(opts.auth);
      expect((await s.mail(opts.from ?? "alice@sender.example", {})).ok).toBe(true);
      for (const r of rcpts) expect((await s.rcpt(r, {})).ok).toBe(true);
      const w = s.beginData();
      await w.write(bytes);
      await w.end();
      const result = await s.data();
      return { result, envelope: s.tx!.envelope };
    } finally {
      await s.close();
    }
  }

  const infected = (subject = "Invoice") =>
    mimeMessage({
      subject,
      attachments: [{ filename: "invoice.zip", data: makeZip([{ name: "a.txt", data: EICAR }]) }],
    });

  it("rejects a virus with 554 5.7.1 naming it", async () => {
    const { result } = await deliver(["bob@acme.example"], infected());
    const v = result.verdicts[0]!;
    expect(v.action).toBe("reject");
    expect(v.symbols.map((s) => s.name)).toContain("CLAMAV_VIRUS");
    const reply = result.reply;
    expect(reply).toMatchObject({ code: 554, enhanced: "5.7.1" });
    expect(reply!.text).toMatch(/Custom\.Eicar-Test-(HDB|NDB)/);
  });

  it("accepts a clean message with no action", async () => {
    const { result } = await deliver(
      ["bob@acme.example"],
      mimeMessage({ attachments: [{ filename: "a.pdf", data: Buffer.from("%PDF-1.4\n") }] }),
    );
    const ours = /^(CLAMAV|ATTACHMENT|ARCHIVE)_/;
    expect(result.verdicts[0]!.symbols.filter((x) => ours.test(x.name))).toEqual([]);
    expect(result.verdicts[0]!.action).toBe("accept");
  });

  it("quarantines per tenant and notifies recipients in their language, and the admin", async () => {
    const { result, envelope } = await deliver(
      ["taro@nihon.example", "jane@nihon.example"],
      infected("請求書"),
    );
    expect(result.verdicts.map((v) => v.action)).toEqual(["quarantine", "quarantine"]);
    const list = await notificationsFor({
      envelope,
      message: { subject: "請求書", from: "alice@sender.example", date: "2025-01-06" },
      recipients: await Promise.all(
        result.verdicts.map(async (v) => ({
          address: v.address,
          policy: await runtime.resolver.forRecipient(v.address),
          action: v.action as ActionType,
          symbols: v.symbols,
          quarantineId: `Q-${v.address}`,
        })),
      ),
    });
    // Forged/outside sender: never told (no backscatter).
    expect(list.map((n) => [n.kind, n.to])).toEqual([
      ["recipient", "taro@nihon.example"],
      ["admin", "admin@nihon.example"],
      ["recipient", "jane@nihon.example"],
    ]);
    const ja = await simpleParser(list[0]!.message);
    expect(ja.subject).toBe("【隔離】請求書");
    expect(ja.text?.trim()).toMatch(
      /^ウイルス Custom\.Eicar-Test-(HDB|NDB)\S* を検出しました。隔離ID: Q-taro@nihon\.example$/,
    );
    const en = await simpleParser(list[2]!.message);
    expect(en.subject).toBe("Virus found in a message to you: 請求書");
    expect(en.text).toContain("Quarantine id: Q-jane@nihon.example");
    expect(en.from?.value[0]?.address).toBe("postmaster@nihon.example");
  });

  it("notifies an authenticated local sender", async () => {
    const { result, envelope } = await deliver(["taro@nihon.example"], infected(), {
      from: "jane@nihon.example",
      auth: "jane@nihon.example",
    });
    const v = result.verdicts[0]!;
    const list = await notificationsFor({
      envelope,
      message: { subject: "Invoice", from: "jane@nihon.example", date: "2025-01-06" },
      recipients: [
        {
          address: v.address,
          policy: await runtime.resolver.forRecipient(v.address),
          action: v.action as ActionType,
          symbols: v.symbols,
        },
      ],
    });
    expect(list.map((n) => n.kind)).toEqual(["recipient", "sender", "admin"]);
    expect((await simpleParser(list[1]!.message)).subject).toBe(
      "送信メールからウイルスを検出しました: Invoice",
    );
  });

  it("blocks executables by content, double extensions and executables inside archives", async () => {
    const mz = Buffer.concat([Buffer.from("MZ"), Buffer.alloc(300, 0)]);
    const cases: [string, Buffer, string][] = [
      ["report.pdf", mz, "ATTACHMENT_BLOCKED_TYPE"],
      ["invoice.pdf.exe", Buffer.from("hello"), "ATTACHMENT_DOUBLE_EXT"],
      [
        "docs.zip",
        makeZip([{ name: "docs/setup.scr", data: Buffer.from("x"), deflate: true }]),
        "ARCHIVE_EXECUTABLE",
      ],
    ];
    for (const [filename, data, symbol] of cases) {
      const { result } = await deliver(
        ["bob@acme.example"],
        mimeMessage({ attachments: [{ filename, data }] }),
      );
      const v = result.verdicts[0]!;
      expect(v.symbols.map((s) => s.name)).toContain(symbol);
      expect(v.action).toBe("reject");
    }
  });

  it("scanner down: 451 4.7.1 by default, the header by policy, counted", async () => {
    const before = (await filter.metrics.unavailable.get()).values;
    const { result } = await deliver(["carol@down.example"], mimeMessage());
    const v = result.verdicts[0]!;
    expect(v.action).toBe("tempfail");
    expect(result.reply).toMatchObject({ code: 451, enhanced: "4.7.1" });
    const lenient = await deliver(["erin@lenient.example"], mimeMessage());
    const e = lenient.result.verdicts[0]!;
    expect(e.action).toBe("accept");
    expect(e.symbols.map((s) => s.name)).toContain("CLAMAV_UNAVAILABLE");
    expect(lenient.result.groups[0]!.edits).toContainEqual({
      op: "add",
      name: "X-Sluice-Virus-Scan",
      value: "unavailable",
    });
    const after = (await filter.metrics.unavailable.get()).values;
    const count = (vals: typeof after, outcome: string) =>
      vals.find((x) => x.labels.outcome === outcome)?.value ?? 0;
    expect(count(after, "tempfail") - count(before, "tempfail")).toBe(1);
    expect(count(after, "header") - count(before, "header")).toBe(1);
  }, 30_000);
});
