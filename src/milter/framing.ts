// Splits the MTA's byte stream into milter packets (uint32 length, command byte, data).
// Bounded: holds at most one incomplete packet, never allocates on a declared length alone.
// Packets are views into the bytes read (no copy), except one that arrived in several reads.
// Does not interpret commands; see commands.ts.
import { MAX_DATA_DEFAULT } from "./constants.ts";
import { ProtocolError } from "./errors.ts";

export interface Frame {
  cmd: number;
  data: Buffer;
}

export class FrameReader {
  private pending: Buffer[] = [];
  private pendingLen = 0;
  /** Bytes needed before the next packet can be complete (header first, then the packet). */
  private need = 4;
  /** Largest data size accepted; raised only by negotiating SMFIP_MDS_256K/1M. */
  maxData: number;

  constructor(maxData = MAX_DATA_DEFAULT) {
    this.maxData = maxData;
  }

  /** Bytes held for an incomplete packet (for tests and metrics). */
  get buffered(): number {
    return this.pendingLen;
  }

  /** Feed bytes; returns every complete packet. Throws ProtocolError on a bad length. */
  push(chunk: Buffer): Frame[] {
    this.pending.push(chunk);
    this.pendingLen += chunk.length;
    // Join only once the packet being waited for is complete: a 1 MiB packet arriving in
    // 64 KiB pieces is copied once, not sixteen times.
    if (this.pendingLen < this.need) return [];
    const buf = this.pending.length === 1 ? chunk : Buffer.concat(this.pending, this.pendingLen);
    this.pending = [];
    this.pendingLen = 0;
    const frames: Frame[] = [];
    let pos = 0;
    this.need = 4;
    while (buf.length - pos >= 4) {
      const len = buf.readUInt32BE(pos);
      if (len === 0) throw new ProtocolError("bad-length", "packet length 0 (no command byte)");
      if (len - 1 > this.maxData) {
        throw new ProtocolError("oversize", `packet data of ${len - 1} bytes exceeds ${this.maxData}`);
      }
      if (buf.length - pos - 4 < len) {
        this.need = 4 + len;
        break;
      }
      frames.push({ cmd: buf[pos + 4]!, data: buf.subarray(pos + 5, pos + 4 + len) });
      pos += 4 + len;
    }
    if (pos < buf.length) {
      // No copy: the rest is joined with the next bytes once its packet is complete anyway, and
      // until then it keeps at most one socket read alive (bounded by the packet size limit).
      const rest = buf.subarray(pos);
      this.pending.push(rest);
      this.pendingLen = rest.length;
    }
    return frames;
  }
}

/** Prefix a command or reply byte and its data with the length header. */
export function frame(cmd: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.allocUnsafe(5 + data.length);
  out.writeUInt32BE(data.length + 1, 0);
  out[4] = cmd;
  data.copy(out, 5);
  return out;
}
