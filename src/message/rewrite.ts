// Builds one recipient group's copy of a message: header edits applied to the header list,
// the body streamed unchanged from the spool (so DKIM body hashes stay valid).
import { Readable } from "node:stream";
import type { HeaderEdit } from "./types.ts";
import type { Transaction } from "./transaction.ts";
import { HeaderList, parseHeaderSection, type HeaderField } from "./headers.ts";

/** Encode a header value for the wire: fold nothing, but never let CR/LF inject a field. */
function fieldBytes(name: string, value: string): Buffer {
  const clean = value.replace(/\r?\n(?![ \t])/g, "\r\n ").replace(/\r(?!\n)/g, " ");
  return Buffer.from(`${name}: ${clean}\r\n`);
}

export function applyEdits(headers: HeaderList, edits: readonly HeaderEdit[]): HeaderList {
  let fields: HeaderField[] = [...headers.fields];
  const top: HeaderField[] = [];
  for (const e of edits) {
    const lower = e.name.toLowerCase();
    if (e.op === "delete") {
      let n = 0;
      fields = fields.filter(
        (f) => f.name.toLowerCase() !== lower || (e.index !== undefined && ++n !== e.index),
      );
      continue;
    }
    const field = parseHeaderSection(fieldBytes(e.name, e.value ?? "")).fields[0]!;
    if (e.op === "set") {
      const i = fields.findIndex((f) => f.name.toLowerCase() === lower);
      if (i !== -1) {
        fields[i] = field;
        continue;
      }
    }
    if (e.top) top.unshift(field);
    else fields.push(field);
  }
  return new HeaderList([...top, ...fields]);
}

/** The whole message for one copy: edited headers, blank line, original body. */
export function messageStream(tx: Transaction, edits: readonly HeaderEdit[]): Readable {
  const head = applyEdits(tx.headers, edits).toBuffer();
  const body = tx.spool!.stream(tx.bodyOffset);
  return Readable.from(
    (async function* () {
      yield Buffer.concat([head, Buffer.from("\r\n")]);
      for await (const c of body) yield c as Buffer;
    })(),
  );
}

export async function messageBuffer(tx: Transaction, edits: readonly HeaderEdit[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of messageStream(tx, edits)) parts.push(c as Buffer);
  return Buffer.concat(parts);
}
