// Header sanity: the RFC 5322 basics a legitimate sender gets right — one From, a Date and
// a Message-ID, lines within 998 characters, no 8-bit header bytes unless SMTPUTF8 was
// given, no lines without a colon. Each finding is a scored symbol, never a crash.
import { z } from "zod";
import type { Filter } from "../../pipeline/types.ts";
import type { SymbolHit } from "../../message/types.ts";
import { parseFilterOptions } from "../options.ts";

const Options = z
  .object({
    max_line_length: z.number().int().min(78).default(998),
    max_headers: z.number().int().positive().default(1000),
  })
  .strict();

export const headerSanityFilter: Filter = {
  name: "header_sanity",
  group: "sanity",
  stages: ["data"],
  priority: 20,
  enabledByDefault: true,
  parseOptions: (raw) => parseFilterOptions(Options, raw),
  check(ctx) {
    const opts = ctx.options as z.infer<typeof Options>;
    const h = ctx.tx!.headers;
    const symbols: SymbolHit[] = [];
    const from = h.all("From").length;
    if (from === 0) symbols.push({ name: "MISSING_FROM", score: 2 });
    if (from > 1) symbols.push({ name: "MULTIPLE_FROM", score: 2, detail: `${from} From fields` });
    if (h.all("Date").length === 0) symbols.push({ name: "MISSING_DATE", score: 1 });
    if (h.all("Message-ID").length === 0) symbols.push({ name: "MISSING_MID", score: 0.5 });
    if (h.length > opts.max_headers) {
      symbols.push({ name: "TOO_MANY_HEADERS", score: 3, detail: `${h.length} > ${opts.max_headers}` });
    }
    const smtputf8 = ctx.envelope.mailFrom?.params.SMTPUTF8 !== undefined;
    let longest = 0;
    let eightBit = false;
    let nul = false;
    let malformed = 0;
    for (const f of h.fields) {
      if (f.malformed) malformed++;
      let lineStart = 0;
      for (let i = 0; i < f.raw.length; i++) {
        const b = f.raw[i]!;
        if (b === 0x0a) {
          longest = Math.max(longest, i - lineStart - (f.raw[i - 1] === 0x0d ? 1 : 0));
          lineStart = i + 1;
        } else if (b === 0) nul = true;
        else if (b >= 0x80) eightBit = true;
      }
      longest = Math.max(longest, f.raw.length - lineStart);
    }
    if (longest > opts.max_line_length) {
      symbols.push({
        name: "HEADER_LINE_TOO_LONG",
        score: 1,
        detail: `${longest} > ${opts.max_line_length}`,
      });
    }
    if (eightBit && !smtputf8) symbols.push({ name: "HEADER_8BIT_NO_SMTPUTF8", score: 1 });
    if (nul) symbols.push({ name: "HEADER_NUL", score: 3 });
    if (malformed > 0)
      symbols.push({ name: "HEADER_MALFORMED", score: 1, detail: `${malformed} lines without a field name` });
    return { symbols };
  },
};
