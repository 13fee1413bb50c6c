// Collects the header fields the MTA sends one packet each into the bytes of a header section,
// so the message intake gets one write for the whole section instead of one per field.
// Bytes only: limits are the intake's (message/transaction.ts), counting is connection.ts's.

const CR = 0x0d;
const LF = 0x0a;

export class HeaderBatch {
  private buf: Buffer | null = null;
  private len = 0;

  get size(): number {
    return this.len;
  }

  /**
   * Append one field as "Name: value\r\n". Without SMFIP_HDR_LEADSPC the MTA dropped the space
   * after the colon, so it is put back; folded values arrive with bare LF between their lines.
   */
  add(name: string, value: Buffer, leadSpace: boolean): void {
    // Worst case: every value byte an LF that becomes CRLF.
    this.reserve(name.length + 2 + value.length * 2 + 2);
    const b = this.buf!;
    let n = this.len;
    n += b.write(name, n, "latin1");
    b[n++] = 0x3a; // ":"
    if (!leadSpace) b[n++] = 0x20;
    let start = 0;
    for (let lf = value.indexOf(LF); lf !== -1; lf = value.indexOf(LF, lf + 1)) {
      if (lf > 0 && value[lf - 1] === CR) continue;
      n += value.copy(b, n, start, lf);
      b[n++] = CR;
      start = lf;
    }
    n += value.copy(b, n, start);
    b[n++] = CR;
    b[n++] = LF;
    this.len = n;
  }

  /** The bytes so far (plus the empty line that ends the section, if asked), then empty again. */
  take(endOfSection: boolean): Buffer {
    if (endOfSection) {
      this.reserve(2);
      this.buf![this.len++] = CR;
      this.buf![this.len++] = LF;
    }
    // A copy: the intake keeps what it is given, and this buffer is reused for the next message.
    const out = Buffer.from(this.buf ? this.buf.subarray(0, this.len) : []);
    this.len = 0;
    return out;
  }

  clear(): void {
    this.len = 0;
  }

  private reserve(extra: number): void {
    const need = this.len + extra;
    if (this.buf && need <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(need, (this.buf?.length ?? 2048) * 2));
    if (this.buf) this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
}
