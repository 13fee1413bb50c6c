// Test helper: encode text in legacy charsets, including ISO-2022-JP, which iconv-lite
// decodes but cannot encode. ISO-2022-JP is JIS X 0208 = EUC-JP bytes with the high bit off.
import iconv from "iconv-lite";

export function encodeCharset(text: string, charset: string): Buffer {
  if (charset.toUpperCase() !== "ISO-2022-JP") return iconv.encode(text, charset);
  const euc = iconv.encode(text, "EUC-JP");
  const out: number[] = [];
  let jis = false;
  for (let i = 0; i < euc.length; i++) {
    const b = euc[i]!;
    if (b >= 0xa1 && b <= 0xfe && i + 1 < euc.length) {
      if (!jis) out.push(0x1b, 0x24, 0x42); // ESC $ B
      jis = true;
      out.push(b & 0x7f, euc[++i]! & 0x7f);
    } else {
      if (jis) out.push(0x1b, 0x28, 0x42); // ESC ( B
      jis = false;
      out.push(b);
    }
  }
  if (jis) out.push(0x1b, 0x28, 0x42);
  return Buffer.from(out);
}
