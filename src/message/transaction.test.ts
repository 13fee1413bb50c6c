import { describe, it, expect } from "vitest";
import { encodeCharset } from "../../test/helpers/charsets.ts";
import { mkdtempSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { Transaction, DEFAULT_INTAKE } from "./transaction.ts";
import { emptyEnvelope } from "./envelope.ts";
import { MessageLineTooLongError, MessageTooLargeError, NulByteError } from "./errors.ts";

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
    const raw = Buffer.from("A: 1\r\n\r\n" + ("a".repeat(998) + "\r\n").repeat(300));
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

describe("transaction intake: line length and NUL bytes", () => {
  const limits = { ...DEFAULT_INTAKE, maxLineBytes: 10 };
  const ok = ["0123456789\r\n", "0123456789\n", "A: 1\r\n\r\n0123456789", "A: 1\r\n\r\n0123456789\r"];
  const tooLong = [
    "01234567890\r\n",
    "A: 1\r\n\r\n01234567890",
    "0123456789\r\r\n",
    "A: 1\n\n0123456789\r\rx\n",
  ];
  for (const chunk of [1, 2, 3, 7, 100]) {
    it(`counts a line across chunks of ${chunk} (CRLF or LF, line end not counted)`, async () => {
      for (const m of ok) await expect(load(Buffer.from(m), chunk, limits)).resolves.toBeDefined();
      for (const m of tooLong) {
        const err = await load(Buffer.from(m), chunk, limits).catch((e: unknown) => e);
        expect(err, JSON.stringify(m)).toBeInstanceOf(MessageLineTooLongError);
      }
    });
  }

  it("refuses a long header line with the same reply as a long body line", async () => {
    const big = Buffer.from("X-Long: " + "a".repeat(200_000) + "\r\n\r\nbody\r\n");
    const err = (await load(big, 65536).catch((e: unknown) => e)) as MessageLineTooLongError;
    expect(err).toBeInstanceOf(MessageLineTooLongError);
    expect([err.code, err.enhanced, err.message]).toEqual([
      554,
      "5.6.0",
      "message line longer than 131072 bytes",
    ]);
    // 64 KiB lines pass intact by default.
    const fine = Buffer.from("X-Long: " + "b".repeat(65_536) + "\r\n\r\n" + "c".repeat(65_536) + "\r\n");
    const tx = await load(fine, 4096);
    expect((await tx.spool!.buffer()).equals(fine)).toBe(true);
  });

  it("refuses NUL bytes by default and strips them when policy says so", async () => {
    const raw = Buffer.from("A: 1\r\n\r\nbo\0dy\r\n");
    for (const chunk of [1, 5, 100]) {
      const err = (await load(raw, chunk).catch((e: unknown) => e)) as NulByteError;
      expect(err).toBeInstanceOf(NulByteError);
      expect([err.code, err.enhanced]).toEqual([554, "5.6.0"]);
      const tx = await load(raw, chunk, { ...DEFAULT_INTAKE, nulBytes: "strip" });
      expect((await tx.spool!.buffer()).toString()).toBe("A: 1\r\n\r\nbody\r\n");
    }
  });

  it("finds a leading blank line (no headers) whatever the chunking", async () => {
    for (const chunk of [1, 2, 100]) {
      const tx = await load(Buffer.from("\r\nA: not a header\r\n\r\n"), chunk);
      expect([tx.headers.length, tx.bodyOffset]).toEqual([0, 2]);
    }
  });

  it("takes a large header section in small pieces in linear time", async () => {
    const raw = Buffer.from(("X-H: " + "v".repeat(60) + "\r\n").repeat(15_000) + "\r\nbody\r\n");
    const t0 = performance.now();
    const tx = await load(raw, 67, { ...DEFAULT_INTAKE, maxHeaderBytes: 2_000_000 });
    expect(tx.headers.length).toBe(15_000);
    expect(performance.now() - t0).toBeLessThan(3000);
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
    // NUL bytes are refused at intake by default; the MIME view must survive them when stripped.
    const view = await (await load(raw, 7, { ...DEFAULT_INTAKE, nulBytes: "strip" })).mime();
    expect(view).toHaveProperty("attachments");
  });
});
