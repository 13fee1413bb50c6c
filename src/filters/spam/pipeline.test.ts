// Through the real pipeline: one transaction, two recipients — spam filter ON gets the message
// quarantined with BAYES_SPAM, spam filter OFF gets it untouched (no spam symbols or headers).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { scanFile } from "../../cli/scan.ts";
import { Runtime } from "../../runtime.ts";
import { GTUBE } from "./classifier.ts";
import { spamFilters } from "./index.ts";

const CONFIG = `
store: "sqlite::memory:"
policy:
  thresholds: { tag: 5, quarantine: 10, reject: null }
tenants:
  - id: example
    domains: [example.com]
    users:
      - address: on@example.com
        spam_filter: true
      - address: off@example.com
        spam_filter: false
`;

const SPAM = `From: "Best Deals" <deals@cheap-offers.biz>
To: on@example.com, off@example.com
Date: Mon, 2 Jun 2025 10:00:00 +0000
Message-ID: <123.456@cheap-offers.biz>
Subject: FREE!!! Make money fast - guaranteed income from home
MIME-Version: 1.0
Content-Type: text/html; charset=iso-8859-1

<html><body><font size="+3" color="#FF0000"><b>MAKE MONEY FAST!!!</b></font><br>
Dear Friend, you have been selected to receive a FREE offer. Earn $5000 per week from home,
guaranteed! No experience needed. This is not spam: you are receiving this because you
opted in. Click here to claim your free money now: <a href="http://203.0.113.9/claim">CLICK HERE</a>
To be removed from our mailing list click here to unsubscribe <a href="http://cheap-offers.biz/remove">remove</a>.
Limited time offer, act now! Order today and receive a bonus. 100% satisfaction guaranteed.
</font></body></html>
`;

describe("spam classifier in the pipeline", () => {
  it("quarantines for the recipient with the spam filter ON and leaves the OFF recipient untouched", async () => {
    const runtime = await Runtime.create({ configText: CONFIG, store: "never", extraFilters: spamFilters() });
    const dir = mkdtempSync(join(tmpdir(), "spam-pipe-"));
    const file = join(dir, "spam.eml");
    writeFileSync(file, SPAM.replace(/\n/g, "\r\n"));
    const report = await scanFile(runtime, file, {
      from: "deals@cheap-offers.biz",
      rcpt: ["on@example.com", "off@example.com"],
      ip: "203.0.113.9",
      helo: "cheap-offers.biz",
      json: true,
      explain: true,
    });
    await runtime.close();
    const on = report.recipients.find((r) => r.address === "on@example.com")!;
    const off = report.recipients.find((r) => r.address === "off@example.com")!;
    expect(on.symbols.map((s) => s.name)).toContain("BAYES_SPAM");
    expect(on.action).toBe("quarantine");
    expect(off.action).toBe("accept");
    expect(off.symbols.filter((s) => /^BAYES_/.test(s.name))).toEqual([]);
    expect(off.score).toBe(0);
    // The OFF recipient's trace shows the spam filter skipped, not run.
    const skipped = (off.trace ?? []).find((t) => "filter" in t && t.filter === "spam-classifier");
    expect(skipped).toMatchObject({ ran: false });
  });

  it("with split_mixed_policies: defer, the OFF recipient is deferred, then gets the retry untouched", async () => {
    const runtime = await Runtime.create({
      configText: CONFIG.replace(
        "domains: [example.com]",
        "domains: [example.com]\n    split_mixed_policies: defer",
      ),
      store: "never",
      logger: pino({ level: "silent" }),
      extraFilters: spamFilters(),
    });
    const raw = Buffer.from(SPAM.replace(/\n/g, "\r\n"));
    const transaction = async (rcpts: string[]) => {
      const s = runtime.newSession();
      await s.connect({ ingress: "scan", address: "203.0.113.9", localName: "mx.test" });
      await s.helo("cheap-offers.biz");
      expect((await s.mail("deals@cheap-offers.biz", {})).ok).toBe(true);
      const replies = [];
      for (const r of rcpts) replies.push(await s.rcpt(r, {}));
      const w = s.beginData();
      await w.write(raw);
      await w.end();
      return { replies, result: await s.data() };
    };
    try {
      // First transaction: ON accepted, OFF deferred (its policy differs from the first recipient's).
      const first = await transaction(["on@example.com", "off@example.com"]);
      expect(first.replies[0]!.ok).toBe(true);
      expect(first.replies[1]).toMatchObject({ ok: false, reply: { code: 452, enhanced: "4.5.3" } });
      expect(first.result.verdicts.map((v) => [v.address, v.action])).toEqual([
        ["on@example.com", "quarantine"],
      ]);
      expect(first.result.verdicts[0]!.symbols.map((x) => x.name)).toContain("BAYES_SPAM");
      // The sender's retry for the deferred recipient: delivered untouched, not scanned for spam.
      const retry = await transaction(["off@example.com"]);
      expect(retry.replies[0]!.ok).toBe(true);
      const off = retry.result.verdicts[0]!;
      expect([off.address, off.action]).toEqual(["off@example.com", "accept"]);
      expect(off.symbols.filter((x) => /^BAYES_/.test(x.name))).toEqual([]);
      const edits = retry.result.groups.flatMap((g) => g.edits);
      expect(edits.filter((e) => /spam/i.test(e.name))).toEqual([]);
      expect(retry.result.groups.flatMap((g) => g.edits).filter((e) => e.name === "Subject")).toEqual([]);
    } finally {
      await runtime.close();
    }
  });

  it("recognises GTUBE (base64 too) for the ON recipient only, and not when gtube is off", async () => {
    const dir = mkdtempSync(join(tmpdir(), "spam-gtube-"));
    const plain = join(dir, "gtube.eml");
    writeFileSync(
      plain,
      `From: t@remote.example\r\nTo: on@example.com\r\nSubject: Test spam mail (GTUBE)\r\n\r\n` +
        `This is the GTUBE, the\r\n\tGeneric\r\n\tTest for\r\n\tUnsolicited\r\n\tBulk\r\n\tEmail\r\n\r\n${GTUBE}\r\n`,
    );
    const encoded = join(dir, "gtube-b64.eml");
    writeFileSync(
      encoded,
      `From: t@remote.example\r\nTo: on@example.com\r\nSubject: test\r\nMIME-Version: 1.0\r\n` +
        `Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: base64\r\n\r\n` +
        `${Buffer.from(`hello\r\n${GTUBE}\r\n`).toString("base64")}\r\n`,
    );
    // One character short of the pattern is an ordinary message.
    const near = join(dir, "near.eml");
    writeFileSync(near, `From: t@remote.example\r\nSubject: x\r\n\r\n${GTUBE.slice(0, -1)}\r\n`);
    const scan = async (config: string, file: string) => {
      const runtime = await Runtime.create({
        configText: config.replace("reject: null", "reject: 20"),
        store: "never",
        logger: pino({ level: "silent" }),
        extraFilters: spamFilters(),
      });
      try {
        return await scanFile(runtime, file, {
          from: "t@remote.example",
          rcpt: ["on@example.com", "off@example.com"],
          ip: "192.0.2.1",
          helo: "mx.remote.example",
          json: true,
          explain: false,
        });
      } finally {
        await runtime.close();
      }
    };
    for (const file of [plain, encoded]) {
      const r = await scan(CONFIG, file);
      const on = r.recipients.find((x) => x.address === "on@example.com")!;
      const off = r.recipients.find((x) => x.address === "off@example.com")!;
      expect(on.symbols.map((x) => x.name)).toEqual(expect.arrayContaining(["GTUBE"]));
      expect(on.symbols.filter((x) => /^BAYES_/.test(x.name))).toEqual([]);
      expect(on.action).toBe("reject");
      expect(off.action).toBe("accept");
      expect(off.symbols.map((x) => x.name)).not.toContain("GTUBE");
    }
    const near1 = await scan(CONFIG, near);
    expect(near1.recipients[0]!.symbols.map((x) => x.name)).not.toContain("GTUBE");
    const offCfg = CONFIG.replace(
      "tenants:",
      "  filters:\n    spam-classifier: { options: { gtube: false } }\ntenants:",
    );
    const disabled = await scan(offCfg, plain);
    expect(disabled.recipients[0]!.symbols.map((x) => x.name)).not.toContain("GTUBE");
    expect(disabled.recipients[0]!.symbols.map((x) => x.name).some((n) => /^BAYES_/.test(n))).toBe(true);
  });
});
