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

  it("never uses headers added by other hops' filters", async () => {
    const raw = Buffer.from(
      "From: a@example.org\r\nX-Spam-Status: Yes, score=20.1 BAYES_99\r\nX-Spam-Flag: YES\r\n" +
        "X-Virus-Scanned: clean\r\nAuthentication-Results: mx.example.org; spf=pass\r\n" +
        "X-Sluice-Score: 12\r\nX-Rspamd-Score: 9\r\nSubject: hello\r\n\r\nhello there\r\n",
    );
    const withLeaks = await tokensOfRaw(raw);
    const clean = await tokensOfRaw(
      Buffer.from("From: a@example.org\r\nSubject: hello\r\n\r\nhello there\r\n"),
    );
    expect(withLeaks.filter((x) => /spam|virus|sluice|rspamd|authentication|bayes|spf/i.test(x))).toEqual([]);
    expect(new Set(withLeaks)).toEqual(new Set(clean));
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
        "mime:html-only",
        "html:tag:font",
        "html:fontsize:+3",
        "reply-to:differs",
        "from:dom:example.com",
      ]),
    );
  });

  it("uses earlier filters' symbols and counts Received hops", () => {
    const t = tokensOf({
      ...base,
      headers: [
        { name: "Received", value: "from a (a.example.org [192.0.2.1]) by b" },
        { name: "Received", value: "from c by d" },
      ],
      earlier: [{ name: "SPF_FAIL" }, { name: "DKIM_NONE" }],
    });
    expect(t).toEqual(
      expect.arrayContaining(["sym:SPF_FAIL", "sym:DKIM_NONE", "rcvd:hops:2", "rcvd:dom:example.org"]),
    );
  });

  it("stops at maxChars", () => {
    const t = tokensOf({ ...base, text: "alpha beta gamma delta" }, 10);
    expect(t).toContain("alpha");
    expect(t).not.toContain("gamma");
  });
});
