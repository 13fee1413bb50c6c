// Tokenizer tests: words and OSB pairs, CJK bigrams from ISO-2022-JP and Shift_JIS mail
// (decoded by the shared MIME view), header/URL/MIME-shape tokens, and excluded headers.
import iconv from "iconv-lite";
import { describe, expect, it } from "vitest";
import { FeatureSet } from "./features.ts";
import { inputFromBytes } from "./message-input.ts";
import { tokenize, type TokenizerInput } from "./tokenizer.ts";

function tokensOf(input: TokenizerInput, maxChars = 20_000): string[] {
  const fs = new FeatureSet(22, true);
  fs.reset();
  tokenize(input, { maxChars }, fs);
  return fs.names!;
}

async function tokensOfRaw(raw: Buffer): Promise<string[]> {
  return tokensOf(await inputFromBytes(raw));
}

/** iconv-lite has no ISO-2022-JP encoder: JIS X 0208 is EUC-JP with the high bits cleared, between escapes. */
function iso2022jp(s: string): Buffer {
  const euc = iconv.encode(s, "EUC-JP");
  const out: number[] = [];
  let kanji = false;
  for (let i = 0; i < euc.length; i++) {
    const b = euc[i]!;
    if (b < 0x80) {
      if (kanji) out.push(0x1b, 0x28, 0x42);
      kanji = false;
      out.push(b);
    } else {
      if (!kanji) out.push(0x1b, 0x24, 0x42);
      kanji = true;
      out.push(b - 0x80, euc[++i]! - 0x80);
    }
  }
  if (kanji) out.push(0x1b, 0x28, 0x42);
  return Buffer.from(out);
}

const base: TokenizerInput = { headers: [], text: "", html: null, attachments: [], earlier: [] };

describe("tokenize", () => {
  it("emits words and orthogonal sparse bigrams", () => {
    const t = tokensOf({ ...base, text: "Buy cheap Viagra now" });
    expect(t).toEqual(
      expect.arrayContaining(["buy", "cheap", "viagra", "now", "buy cheap", "buy ~ viagra", "buy ~~ now"]),
    );
  });

  it("cuts decoded Japanese from ISO-2022-JP into character bigrams", async () => {
    const body = iso2022jp("無料で今すぐ登録してください。");
    const subject = `=?ISO-2022-JP?B?${iso2022jp("お得な情報").toString("base64")}?=`;
    const raw = Buffer.concat([
      Buffer.from(
        `From: =?ISO-2022-JP?B?${iso2022jp("山田").toString("base64")}?= <info@example.jp>\r\n` +
          `Subject: ${subject}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n` +
          "Content-Transfer-Encoding: 7bit\r\n\r\n",
      ),
      body,
      Buffer.from("\r\n"),
    ]);
    const t = await tokensOfRaw(raw);
    expect(t).toEqual(
      expect.arrayContaining(["無料", "料で", "今す", "登録", "subj:お得", "subj:情報", "fromname:山田"]),
    );
    expect(t).toContain("charset:iso-2022-jp");
  });

  it("decodes Shift_JIS text (8bit) the same way", async () => {
    const raw = Buffer.concat([
      Buffer.from(
        "From: shop@example.co.jp\r\nSubject: sale\r\nContent-Type: text/plain; charset=Shift_JIS\r\n",
      ),
      Buffer.from("Content-Transfer-Encoding: 8bit\r\n\r\n"),
      iconv.encode("激安セール開催中", "Shift_JIS"),
    ]);
    const t = await tokensOfRaw(raw);
    expect(t).toEqual(expect.arrayContaining(["激安", "安セ", "セー", "ール", "開催", "催中"]));
    expect(t).toEqual(expect.arrayContaining(["from:dom:example.co.jp", "from:host:example.co.jp"]));
  });

  it("separates mixed Latin and CJK runs", () => {
    const t = tokensOf({ ...base, text: "Windows版を無料" });
    expect(t).toEqual(expect.arrayContaining(["windows", "版を", "を無", "無料"]));
  });

  it("never uses headers added by other filters or by the receiving mailbox", async () => {
    const clean =
      "From: a@example.org\r\nTo: b@example.net\r\nDate: Mon, 2 Jun 2025 10:00:00 +0000\r\n" +
      "Message-ID: <1@example.org>\r\nSubject: hello\r\n\r\nhello there\r\n";
    const leaks =
      // The receiving mailbox: mail client, POP/IMAP, final delivery, trace fields.
      "X-Account-Key: account5\r\nX-UIDL: GmailId1289c819d0ccdb08\r\nX-Mozilla-Status: 0001\r\n" +
      "X-Mozilla-Status2: 00000000\r\nX-Mozilla-Keys: \r\nDelivered-To: b@example.net\r\n" +
      "X-Original-To: b@example.net\r\nReturn-Path: <a@example.org>\r\n" +
      "Received: from mx.example.org (mx.example.org [192.0.2.1]) by mx.example.net; Mon, 2 Jun 2025 10:00:05 +0000\r\n" +
      "Status: RO\r\nX-Gmail-Labels: Inbox\r\n" +
      // Other filters' verdicts, including lists' renamed copies and gateway stamps.
      "Received-SPF: pass (mx.example.net: domain of a@example.org designates 192.0.2.1)\r\n" +
      "Authentication-Results: mx.example.net; spf=pass; dkim=pass header.d=example.org\r\n" +
      "ARC-Authentication-Results: i=1; mx.example.net; spf=pass\r\n" +
      "X-Spam-Status: Yes, score=20.1 BAYES_99\r\nX-Spam-Flag: YES\r\nX-Spam-Level: ********\r\n" +
      "XStatus: No, score=-15.9 required=4.0\r\nXLevel: \r\nXChecker-Version: SpamAssassin 3.2.5\r\n" +
      "X-AmavisStatus: No, score=-11.9\r\nX-Virus-Scanned: clean\r\nX-Barracuda-Spam-Score: 5.46\r\n" +
      "X-ASG-Orig-Subj: hello\r\nX-Rc-Spam: 2008-11-04_01\r\nX-policyd-weight: using cached result\r\n" +
      "X-BitDefenderWKS-SpamStamp: Build: [Engines: 2.15]\r\nX-Brightmail-Tracker: AAAAAA==\r\n" +
      "X-Sluice-Score: 12\r\nX-Rspamd-Score: 9\r\nX-Greylist: delayed 61 seconds\r\n";
    const withLeaks = await tokensOfRaw(
      Buffer.from(leaks + clean.replace("Subject: hello", "Subject: [SPAM] hello")),
    );
    const plain = await tokensOfRaw(Buffer.from(clean));
    expect(
      withLeaks.filter((x) =>
        /spam|virus|sluice|rspamd|authentication|bayes|spf|mozilla|uidl|delivered|received/i.test(x),
      ),
    ).toEqual([]);
    expect(new Set(withLeaks)).toEqual(new Set(plain));
  });

  it("strips subject tags other filters prepended", async () => {
    const t = await tokensOfRaw(
      Buffer.from(
        "From: a@example.org\r\nSubject: [spam] =?iso-8859-1?B?W1NQQU1dIA==?= cheap watches\r\n\r\nx\r\n",
      ),
    );
    expect(t).toEqual(expect.arrayContaining(["subj:cheap", "subj:watches"]));
    expect(t.filter((x) => x.startsWith("subj:spam"))).toEqual([]);
  });

  it("adds URL hosts, registrable domains and HTML/MIME shape", async () => {
    const raw = Buffer.from(
      "From: x@promo.example.com\r\nReply-To: y@other.net\r\nContent-Type: text/html\r\n\r\n" +
        '<html><body><font size="+3">Click <a href="http://www.shop.example.co.uk/buy">here</a>' +
        ' <a href="http://192.0.2.7/x">now</a></font></body></html>\r\n',
    );
    const t = await tokensOfRaw(raw);
    expect(t).toEqual(
      expect.arrayContaining([
        "url:host:www.shop.example.co.uk",
        "url:dom:example.co.uk",
        "url:ip",
        "sig:MIME_HTML_ONLY",
        "sig:URL_IP_HOST",
        "html:tag:font",
        "reply-to:differs",
        "from:dom:example.com",
      ]),
    );
  });

  it("uses earlier filters' symbols after the message's own features, and no Received fields", () => {
    const fs = new FeatureSet(22, true);
    fs.reset();
    const r = tokenize(
      {
        ...base,
        text: "hello",
        headers: [
          { name: "Received", value: "from a (a.example.org [192.0.2.1]) by b" },
          { name: "Received", value: "from c by d" },
        ],
        earlier: [{ name: "SPF_FAIL" }, { name: "DKIM_NONE" }],
      },
      { maxChars: 1000 },
      fs,
    );
    expect(fs.names!.slice(r.contentCount)).toEqual(["sym:SPF_FAIL", "sym:DKIM_NONE"]);
    expect(fs.names!.filter((x) => /rcvd|received|example\.org/.test(x))).toEqual([]);
  });

  it("stops at maxChars", () => {
    const t = tokensOf({ ...base, text: "alpha beta gamma delta" }, 10);
    expect(t).toContain("alpha");
    expect(t).not.toContain("gamma");
  });
});
