import { describe, it, expect } from "vitest";
import { encodeCharset } from "../../test/helpers/charsets.ts";
import { mkdtempSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { Transaction, DEFAULT_INTAKE } from "./transaction.ts";
import { emptyEnvelope } from "./envelope.ts";
import { MessageTooLargeError } from "./errors.ts";

async function load(raw: Buffer, chunk = 7, limits = DEFAULT_INTAKE): Promise<Transaction> {
  const tx = new Transaction(emptyEnvelope("scan"), limits);
  const w = tx.writer();
  for (let i = 0; i < raw.length; i += chunk) await w.write(raw.subarray(i, i + chunk));
  return w.end();
}

function mimeText(charset: string, text: string, cte: "base64" | "7bit" = "base64"): Buffer {
  const body = encodeCharset(text, charset);
  return Buffer.concat([
    Buffer.from(
      `From: a@x.org\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=${charset}\r\nContent-Transfer-Encoding: ${cte}\r\n\r\n`,
    ),
    cte === "base64" ? Buffer.from(body.toString("base64") + "\r\n") : body,
  ]);
}

describe("transaction intake", () => {
  it("finds the header end across chunk boundaries and keeps the raw bytes", async () => {
    const raw = Buffer.from("A: 1\r\nB: 2\r\n\r\nbody line\r\n");
    for (const chunk of [1, 2, 3, 5, 100]) {
      const tx = await load(raw, chunk);
      expect(tx.headers.get("B")).toBe("2");
      expect(tx.bodyOffset).toBe(14);
      expect((await tx.spool!.buffer()).equals(raw)).toBe(true);
      expect((await tx.spool!.buffer(tx.bodyOffset)).toString()).toBe("body line\r\n");
    }
  });

  it("treats a message without a blank line as all headers", async () => {
    const tx = await load(Buffer.from("A: 1\r\nB: 2\r\n"));
    expect(tx.headers.length).toBe(2);
  });

  it("spills to a temp file past the memory limit and removes it on dispose", async () => {
    const dir = mkdtempSync(join(tmpdir(), "spool-"));
    const raw = Buffer.concat([Buffer.from("A: 1\r\n\r\n"), Buffer.alloc(300_000, 0x61)]);
    const tx = await load(raw, 65536, { ...DEFAULT_INTAKE, spoolMemoryBytes: 100_000, spoolDir: dir });
    expect(tx.spool!.onDisk).toBe(true);
    expect(readdirSync(dir).length).toBe(1);
    expect((await tx.spool!.buffer()).equals(raw)).toBe(true);
    await tx.dispose();
    expect(readdirSync(dir).length).toBe(0);
  });

  it("refuses a message or header section over the limit with a typed error", async () => {
    const limits = { ...DEFAULT_INTAKE, maxMessageBytes: 1000, maxHeaderBytes: 100 };
    await expect(
      load(Buffer.concat([Buffer.from("A: 1\r\n\r\n"), Buffer.alloc(2000, 0x61)]), 64, limits),
    ).rejects.toThrow(MessageTooLargeError);
    const err = await load(Buffer.from("X: " + "y".repeat(500) + "\r\n\r\n"), 64, limits).catch((e) => e);
    expect(err).toBeInstanceOf(MessageTooLargeError);
    expect(err.code).toBe(552);
  });
});

describe("MIME view", () => {
  const japanese = "こんにちは、世界。迷惑メールではありません。";
  for (const charset of ["ISO-2022-JP", "Shift_JIS", "EUC-JP", "KOI8-R", "windows-1252", "GB2312"]) {
    it(`decodes text in ${charset}`, async () => {
      const text =
        charset === "KOI8-R"
          ? "Привет, мир"
          : charset === "windows-1252"
            ? "Café – naïve"
            : charset === "GB2312"
              ? "你好世界"
              : japanese;
      const tx = await load(mimeText(charset, text));
      expect((await tx.mime()).text.trim()).toBe(text);
    });
  }

  it("parses once and shares the view", async () => {
    const tx = await load(mimeText("UTF-8", "hello"));
    expect(tx.mime()).toBe(tx.mime());
  });

  it("describes attachments with declared and detected types without keeping them", async () => {
    const png = Buffer.from(
      "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6300010000050001",
      "hex",
    );
    const raw = Buffer.from(
      [
        "From: a@x.org",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="b"',
        "",
        "--b",
        "Content-Type: text/plain",
        "",
        "see attached",
        "--b",
        'Content-Type: application/pdf; name="invoice.pdf"',
        'Content-Disposition: attachment; filename="invoice.pdf"',
        "Content-Transfer-Encoding: base64",
        "",
        png.toString("base64"),
        "--b--",
        "",
      ].join("\r\n"),
    );
    const view = await (await load(raw, 50)).mime();
    expect(view.text.trim()).toBe("see attached");
    expect(view.attachments).toHaveLength(1);
    expect(view.attachments[0]).toMatchObject({
      filename: "invoice.pdf",
      declaredType: "application/pdf",
      detectedType: "image/png",
      size: png.length,
    });
  });

  it("survives malformed MIME and broken charsets", async () => {
    const raw = Buffer.from(
      'From: a@x.org\r\nContent-Type: multipart/mixed; boundary="never"\r\n\r\n--other\r\nContent-Type: text/plain; charset=no-such-charset\r\nContent-Transfer-Encoding: base64\r\n\r\n%%%not base64%%%\r\n\u0000\u0000',
    );
    const view = await (await load(raw)).mime();
    expect(view).toHaveProperty("attachments");
  });
});
