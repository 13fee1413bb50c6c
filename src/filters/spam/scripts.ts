// Writing systems in decoded text, for the obfuscation and mismatch signals: words that mix
// Latin with look-alike Cyrillic or Greek letters, zero-width characters inside words, and the
// script a declared charset or Content-Language implies versus the script the text is in.

/** Latin next to Cyrillic/Greek within one word ("Vіagra" with a Cyrillic і). */
const MIXED_WORD_RE =
  /\p{sc=Latin}\p{L}*[\p{sc=Cyrillic}\p{sc=Greek}]|[\p{sc=Cyrillic}\p{sc=Greek}]\p{L}*\p{sc=Latin}/gu;
/** Invisible characters between Latin letters or digits ("fr\u200Bee"); not ZWJ/ZWNJ in scripts that need them. */
const INVISIBLE = "(?:\\u200b|\\u200c|\\u200d|\\u2060|\\ufeff|\\u00ad|\\u034f|\\u180e)";
const ZERO_WIDTH_RE = new RegExp(`[\\p{sc=Latin}\\d]${INVISIBLE}+[\\p{sc=Latin}\\d]`, "gu");

/** Cheap pre-checks: most mail has no Greek/Cyrillic letter and no invisible character at all. */
const GREEK_CYRILLIC_RE = /[\u0370-\u052f\u1f00-\u1fff]/;
const INVISIBLE_RE = new RegExp(INVISIBLE);

export function mixedScriptWords(text: string, max = 10): number {
  return GREEK_CYRILLIC_RE.test(text) ? countMatches(MIXED_WORD_RE, text, max) : 0;
}

export function zeroWidthInWords(text: string, max = 10): number {
  return INVISIBLE_RE.test(text) ? countMatches(ZERO_WIDTH_RE, text, max) : 0;
}

function countMatches(re: RegExp, text: string, max: number): number {
  re.lastIndex = 0;
  let n = 0;
  while (n < max && re.exec(text) !== null) n++;
  return n;
}

export type Script =
  "latin" | "cyrillic" | "greek" | "han" | "japanese" | "hangul" | "arabic" | "hebrew" | "thai";

export interface ScriptCounts {
  letters: number;
  by: Partial<Record<Script, number>>;
}

/** Script of one UTF-16 code unit by block ranges (fast; astral planes are not counted). */
function scriptOf(c: number): Script | null {
  if (c < 0x80) return (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a ? "latin" : null;
  if (c < 0x250) return c >= 0xc0 && c !== 0xd7 && c !== 0xf7 ? "latin" : null;
  if (c >= 0x370 && c < 0x400) return "greek";
  if (c >= 0x400 && c < 0x530) return "cyrillic";
  if (c >= 0x590 && c < 0x600) return "hebrew";
  if ((c >= 0x600 && c < 0x700) || (c >= 0x750 && c < 0x780)) return "arabic";
  if (c >= 0xe00 && c < 0xe80) return "thai";
  if (c >= 0x1e00 && c < 0x1f00) return "latin";
  if (c >= 0x1f00 && c < 0x2000) return "greek";
  if ((c >= 0x1100 && c < 0x1200) || (c >= 0x3130 && c < 0x3190) || (c >= 0xac00 && c < 0xd7b0))
    return "hangul";
  if ((c >= 0x3040 && c < 0x3100) || (c >= 0xff66 && c < 0xffa0)) return "japanese";
  if ((c >= 0x4e00 && c < 0xa000) || (c >= 0x3400 && c < 0x4dc0) || (c >= 0xf900 && c < 0xfb00)) return "han";
  return null;
}

/** Letters per script in the first `limit` characters (Japanese counts kana; kanji count as han). */
export function scriptCounts(text: string, limit = 4000): ScriptCounts {
  const out: ScriptCounts = { letters: 0, by: {} };
  const end = Math.min(text.length, limit);
  for (let i = 0; i < end; i++) {
    const s = scriptOf(text.charCodeAt(i));
    if (s === null) continue;
    out.letters++;
    out.by[s] = (out.by[s] ?? 0) + 1;
  }
  return out;
}

/** The scripts a charset exists to carry; null for charsets that say nothing (utf-8, latin-1 …). */
export function charsetScripts(charset: string): Script[] | null {
  const c = charset.toLowerCase().replace(/^x-/, "");
  if (/^(gb2312|gbk|gb18030|big5|big5-hkscs|hz-gb-2312|euc-cn|cp936|cp950)$/.test(c)) return ["han"];
  if (/^(iso-2022-jp|shift_jis|shift-jis|sjis|euc-jp|cp932|windows-31j)$/.test(c)) return ["japanese", "han"];
  if (/^(euc-kr|ks_c_5601-1987|iso-2022-kr|cp949|uhc)$/.test(c)) return ["hangul", "han"];
  if (/^(koi8-r|koi8-u|windows-1251|cp1251|iso-8859-5|ibm866|cp866)$/.test(c)) return ["cyrillic"];
  if (/^(windows-1253|iso-8859-7)$/.test(c)) return ["greek"];
  if (/^(windows-1256|iso-8859-6)$/.test(c)) return ["arabic"];
  if (/^(windows-1255|iso-8859-8(-i)?)$/.test(c)) return ["hebrew"];
  if (/^(tis-620|windows-874|iso-8859-11)$/.test(c)) return ["thai"];
  return null;
}

/** The scripts a Content-Language tag implies; null for tags not checked. */
export function languageScripts(tag: string): Script[] | null {
  const l = tag.trim().toLowerCase().split(/[-_]/)[0]!;
  switch (l) {
    case "ja":
      return ["japanese", "han"];
    case "zh":
      return ["han"];
    case "ko":
      return ["hangul", "han"];
    case "ru":
    case "uk":
    case "bg":
    case "sr":
      return ["cyrillic"];
    case "el":
      return ["greek"];
    case "ar":
    case "fa":
      return ["arabic"];
    case "he":
      return ["hebrew"];
    case "th":
      return ["thai"];
    case "en":
    case "de":
    case "fr":
    case "es":
    case "it":
    case "pt":
    case "nl":
    case "sv":
    case "da":
    case "no":
    case "fi":
    case "pl":
    case "cs":
    case "hu":
    case "ro":
    case "tr":
      return ["latin"];
    default:
      return null;
  }
}

/**
 * True when a text of some length is (almost) not in the expected scripts: under 2 % of its
 * letters for a non-Latin script, under 30 % for Latin (names and URLs are Latin everywhere).
 */
export function lacksScripts(counts: ScriptCounts, scripts: Script[], minLetters = 40): boolean {
  if (counts.letters < minLetters) return false;
  const have = scripts.reduce((a, s) => a + (counts.by[s] ?? 0), 0);
  return have < counts.letters * (scripts.includes("latin") ? 0.3 : 0.02);
}
