// The header section of one message: raw bytes kept per field, order and duplicates
// preserved, with folded, unfolded and RFC 2047-decoded views computed on demand.
// Not a MIME parser: body structure lives in mime.ts.
import libmime from "libmime";

export interface HeaderField {
  /** Field name as written (case kept). */
  readonly name: string;
  /** Exact bytes of the field, including folding and the final line break. */
  readonly raw: Buffer;
  /** True when the line had no colon (kept so nothing is lost; header sanity reports it). */
  readonly malformed: boolean;
}

const COLON = 0x3a;

/** Parse a header section (everything before the empty line) into fields. */
export function parseHeaderSection(head: Buffer): HeaderList {
  const fields: HeaderField[] = [];
  let start = 0;
  let pos = 0;
  const len = head.length;
  while (pos < len) {
    const nl = head.indexOf(0x0a, pos);
    const lineEnd = nl === -1 ? len : nl + 1;
    const next = head[lineEnd];
    // A following line that starts with SP or HTAB continues this field (RFC 5322 2.2.3).
    if (lineEnd < len && (next === 0x20 || next === 0x09)) {
      pos = lineEnd;
      continue;
    }
    const raw = head.subarray(start, lineEnd);
    if (raw.length > 0) fields.push(makeField(raw));
    start = lineEnd;
    pos = lineEnd;
  }
  return new HeaderList(fields);
}

function makeField(raw: Buffer): HeaderField {
  const colon = raw.indexOf(COLON);
  const firstLineEnd = raw.indexOf(0x0a);
  if (colon <= 0 || (firstLineEnd !== -1 && colon > firstLineEnd)) {
    return { name: "", raw, malformed: true };
  }
  const name = raw.subarray(0, colon).toString("latin1").trim();
  return { name, raw, malformed: /[\s]/.test(name) || name.length === 0 };
}

export function fieldValueFolded(field: HeaderField): string {
  const colon = field.raw.indexOf(COLON);
  const value = field.raw.subarray(colon + 1).toString("utf8");
  return value.replace(/\r?\n$/, "").replace(/^[ \t]/, "");
}

export function unfold(value: string): string {
  return value.replace(/\r?\n(?=[ \t])/g, "");
}

/** RFC 2047 decoding of encoded-words (all charsets libmime knows, ISO-2022-JP included). */
export function decodeWords(value: string): string {
  try {
    return libmime.decodeWords(value);
  } catch {
    return value;
  }
}

export class HeaderList {
  readonly fields: readonly HeaderField[];
  constructor(fields: HeaderField[]) {
    this.fields = fields;
  }

  get length(): number {
    return this.fields.length;
  }

  /** Fields with this name (case-insensitive), in message order. */
  all(name: string): HeaderField[] {
    const lower = name.toLowerCase();
    return this.fields.filter((f) => f.name.toLowerCase() === lower);
  }

  /** Unfolded value of the first field of this name, or null. */
  get(name: string): string | null {
    const f = this.all(name)[0];
    return f ? unfold(fieldValueFolded(f)).trim() : null;
  }

  /** Unfolded and RFC 2047-decoded value of the first field of this name, or null. */
  decoded(name: string): string | null {
    const v = this.get(name);
    return v === null ? null : decodeWords(v);
  }

  /** Every field as {name, value} with values unfolded and decoded (for Sieve, tokenisers). */
  entries(): { name: string; value: string }[] {
    return this.fields
      .filter((f) => !f.malformed)
      .map((f) => ({ name: f.name, value: decodeWords(unfold(fieldValueFolded(f)).trim()) }));
  }

  /** The exact bytes of the header section (without the blank separator line). */
  toBuffer(): Buffer {
    return Buffer.concat(this.fields.map((f) => f.raw));
  }
}
