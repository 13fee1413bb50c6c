// Signals on crafted messages: each named signal fires on the trick it names and stays quiet on
// the ordinary message beside it; every signal is also a model feature (sig:NAME).
import { describe, expect, it } from "vitest";
import { FeatureSet } from "./features.ts";
import { inputFromBytes } from "./message-input.ts";
import { SIGNAL_SCORES, type SignalName } from "./signals.ts";
import { tokenize } from "./tokenizer.ts";

const HEAD =
  "From: Alice <alice@sender.example>\r\nTo: bob@rcpt.example\r\nDate: Mon, 2 Jun 2025 10:00:00 +0000\r\n" +
  "Message-ID: <abc.123@sender.example>\r\nMIME-Version: 1.0\r\n";
const RECEIVED = "Received: from mx.sender.example by mx.rcpt.example; Mon, 2 Jun 2025 10:00:05 +0000\r\n";

async function signalsOf(raw: string): Promise<{ names: SignalName[]; tokens: string[] }> {
  const fs = new FeatureSet(22, true);
  fs.reset();
  const r = tokenize(
    await inputFromBytes(Buffer.from(raw.replace(/\r?\n/g, "\r\n"))),
    { maxChars: 20_000 },
    fs,
  );
  return { names: r.signals.map((s) => s.name), tokens: fs.names! };
}

const plain = (body: string, head = HEAD) =>
  `${RECEIVED}${head}Subject: lunch\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`;
const html = (body: string, head = HEAD, ct = "text/html; charset=utf-8") =>
  `${RECEIVED}${head}Subject: news\r\nContent-Type: ${ct}\r\n\r\n<html><body>${body}</body></html>\r\n`;
const LONG = "The meeting notes from Tuesday are below; please read them before the review. ".repeat(6);

describe("signals", () => {
  it("an ordinary plain-text message has none", async () => {
    expect((await signalsOf(plain(LONG))).names).toEqual([]);
  });

  it("HTML only, little text, images", async () => {
    const r = await signalsOf(html('<a href="http://shop.example/x">Buy</a>'));
    expect(r.names).toEqual(expect.arrayContaining(["MIME_HTML_ONLY", "HTML_LITTLE_TEXT"]));
    expect(r.tokens).toContain("sig:MIME_HTML_ONLY");
    const img = await signalsOf(html('<img src="http://img.example/a.png"><p>Hi</p>'));
    expect(img.names).toContain("IMAGE_LITTLE_TEXT");
    expect((await signalsOf(html(`<p>${LONG}</p>`))).names).toEqual(["MIME_HTML_ONLY"]);
  });

  it("hidden and tiny text", async () => {
    const hidden = await signalsOf(
      html(`<p>${LONG}</p><div style="display:none">bayes poison words words words words</div>`),
    );
    expect(hidden.names).toContain("HTML_HIDDEN_TEXT");
    const white = await signalsOf(
      html(`<p>${LONG}</p><font color="#ffffff">invisible words here and more</font>`),
    );
    expect(white.names).toContain("HTML_HIDDEN_TEXT");
    const tiny = await signalsOf(
      html(`<p>${LONG}</p><span style="font-size:1px">tiny tiny tiny tiny words</span>`),
    );
    expect(tiny.names).toContain("HTML_TINY_TEXT");
    const font = await signalsOf(html(`<p>${LONG}</p><font size="1">tiny tiny tiny tiny tiny words</font>`));
    expect(font.names).toContain("HTML_TINY_TEXT");
  });

  it("link text naming another host than its href, IP hosts, shorteners, many domains", async () => {
    const phish = await signalsOf(
      html(`<p>${LONG}</p><a href="http://evil.example.net/login">https://www.mybank.com/login</a>`),
    );
    expect(phish.names).toContain("URL_TEXT_HOST_MISMATCH");
    const same = await signalsOf(html(`<p>${LONG}</p><a href="https://www.mybank.com/a">www.mybank.com</a>`));
    expect(same.names).not.toContain("URL_TEXT_HOST_MISMATCH");
    const file = await signalsOf(html(`<p>${LONG}</p><a href="http://files.example/r.pdf">report.pdf</a>`));
    expect(file.names).not.toContain("URL_TEXT_HOST_MISMATCH");
    expect((await signalsOf(plain(`${LONG} http://3232235777/x and http://0x7f.0.0.1/`))).names).toContain(
      "URL_IP_HOST",
    );
    expect((await signalsOf(plain(`${LONG} see https://bit.ly/3abc`))).names).toContain("URL_SHORTENER");
    const many = Array.from({ length: 9 }, (_, i) => `http://site${i}.example${i}.com/`).join(" ");
    expect((await signalsOf(plain(`${LONG} ${many}`))).names).toContain("URL_MANY_DOMAINS");
  });

  it("obfuscated words: mixed scripts, zero-width characters, entity-encoded letters", async () => {
    // "Viagra" with a Cyrillic а, "cheap" with a Greek ε.
    expect((await signalsOf(plain(`${LONG} Buy Viаgra now, chεap pills`))).names).toContain(
      "TEXT_MIXED_SCRIPT",
    );
    expect((await signalsOf(plain(`${LONG} fr\u200bee mo\u200cney`))).names).toContain("TEXT_ZERO_WIDTH");
    const ent = await signalsOf(html(`<p>${LONG}</p><p>&#86;&#105;&#97;&#103;&#114;&#97;</p>`));
    expect(ent.names).toContain("HTML_ENTITY_LETTERS");
    // Russian and English words side by side are not mixed words.
    expect((await signalsOf(plain(`${LONG} Привет, world! Как дела?`))).names).not.toContain(
      "TEXT_MIXED_SCRIPT",
    );
  });

  it("encoded-word abuse in Subject and From", async () => {
    const head =
      "From: =?utf-8?B?cGF5cGFsQHNlcnZpY2UuY29t?= <x@sender.example>\r\nTo: bob@rcpt.example\r\n" +
      "Date: Mon, 2 Jun 2025 10:00:00 +0000\r\nMessage-ID: <a@sender.example>\r\n";
    const r = await signalsOf(
      `${RECEIVED}${head}Subject: =?utf-8?B?SGVsbG8gd29ybGQ=?= =?koi8-r?B?8NLJ18XU?=\r\n\r\n${LONG}\r\n`,
    );
    expect(r.names).toEqual(
      expect.arrayContaining(["FROM_EXCESS_ENCODING", "FROM_ENCODED_ADDRESS", "ENCODED_MIXED_CHARSET"]),
    );
    const subj = await signalsOf(`${RECEIVED}${HEAD}Subject: =?utf-8?Q?Hello_there?=\r\n\r\n${LONG}\r\n`);
    expect(subj.names).toContain("SUBJ_EXCESS_ENCODING");
    const honest = await signalsOf(
      `${RECEIVED}${HEAD}Subject: =?utf-8?Q?Gr=C3=BC=C3=9Fe?=\r\n\r\n${LONG}\r\n`,
    );
    expect(honest.names).toEqual([]);
  });

  it("display name spoofing the recipient's domain", async () => {
    const head = HEAD.replace(
      "From: Alice <alice@sender.example>",
      'From: "rcpt.example IT desk" <it@evil.example>',
    );
    expect((await signalsOf(plain(LONG, head))).names).toContain("FROM_NAME_SPOOFS_RCPT");
    const other = HEAD.replace("From: Alice <alice@sender.example>", '"ceo@big.example" <x@evil.example>');
    expect(
      (await signalsOf(plain(LONG, `From: ${other}\r\n${HEAD.split("\r\n").slice(1).join("\r\n")}`))).names,
    ).toContain("FROM_NAME_HAS_ADDRESS");
  });

  it("missing, invalid or future Date; malformed Message-ID", async () => {
    const noDate = await signalsOf(plain(LONG, HEAD.replace(/Date: [^\r]*\r\n/, "")));
    expect(noDate.names).toEqual([]);
    expect(noDate.tokens).toContain("sig:DATE_MISSING");
    expect((await signalsOf(plain(LONG, HEAD.replace("2 Jun 2025", "2 Jun 2027")))).names).toContain(
      "DATE_FUTURE",
    );
    expect(
      (await signalsOf(plain(LONG, HEAD.replace(/Date: [^\r]*/, "Date: yesterday-ish")))).names,
    ).toContain("DATE_INVALID");
    expect(
      (await signalsOf(plain(LONG, HEAD.replace("<abc.123@sender.example>", "abc123")))).names,
    ).toContain("MID_MALFORMED");
  });

  it("declared charset or language against the text", async () => {
    const gb = `${RECEIVED}${HEAD}Subject: hi\r\nContent-Type: text/plain; charset=gb2312\r\n\r\n${LONG}\r\n`;
    expect((await signalsOf(gb)).names).toContain("CHARSET_TEXT_MISMATCH");
    const ru = `${RECEIVED}${HEAD}Subject: hi\r\nContent-Language: ja\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${LONG}\r\n`;
    expect((await signalsOf(ru)).names).toContain("LANGUAGE_TEXT_MISMATCH");
  });

  it("attachment types", async () => {
    const att = (name: string, type: string, data: string) =>
      `${RECEIVED}${HEAD}Subject: invoice\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n` +
      `Content-Type: text/plain\r\n\r\n${LONG}\r\n--b\r\nContent-Type: ${type}; name="${name}"\r\n` +
      `Content-Disposition: attachment; filename="${name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n` +
      `${Buffer.from(data, "latin1").toString("base64")}\r\n--b--\r\n`;
    const exe = "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + "\x00".repeat(200);
    const r = await signalsOf(att("invoice.pdf.exe", "application/pdf", exe));
    expect(r.names).toEqual(
      expect.arrayContaining(["ATT_EXECUTABLE", "ATT_DOUBLE_EXT", "ATT_TYPE_MISMATCH"]),
    );
    expect((await signalsOf(att("report.docm", "application/octet-stream", "x".repeat(50)))).names).toContain(
      "ATT_MACRO_OFFICE",
    );
    expect(
      (await signalsOf(att("photo.png", "image/png", "\x89PNG\r\n\x1a\n" + "\x00".repeat(100)))).names,
    ).toEqual([]);
  });

  it("every signal has a default score", () => {
    for (const [name, score] of Object.entries(SIGNAL_SCORES)) {
      expect(name).toMatch(/^[A-Z0-9_]+$/);
      expect(typeof score).toBe("number");
    }
  });
});
