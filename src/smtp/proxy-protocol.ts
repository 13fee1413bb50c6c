// PROXY protocol v1 (text) and v2 (binary) from a load balancer, read before the greeting:
// it replaces the client address with the one the balancer saw. Only on listeners that
// enable it — otherwise any client could claim any address.
import type { SmtpInput } from "./input.ts";

export class ProxyProtocolError extends Error {}

const V2_SIG = Buffer.from("0d0a0d0a000d0a515549540a", "hex");

export interface ProxiedAddress {
  address: string;
  port: number;
}

/** Returns the original client, or null for a LOCAL/UNKNOWN header (health checks). */
export async function readProxyHeader(input: SmtpInput): Promise<ProxiedAddress | null> {
  const head = await input.peek(12);
  if (head.equals(V2_SIG)) return readV2(input);
  if (head.subarray(0, 6).toString("latin1") === "PROXY ") return readV1(input);
  throw new ProxyProtocolError("expected a PROXY protocol header");
}

async function readV1(input: SmtpInput): Promise<ProxiedAddress | null> {
  const line = await input.readLine();
  const m = /^PROXY (TCP4|TCP6|UNKNOWN)(?: ([0-9a-fA-F:.]+) ([0-9a-fA-F:.]+) (\d{1,5}) (\d{1,5}))?$/.exec(
    line ?? "",
  );
  if (!m) throw new ProxyProtocolError("malformed PROXY v1 header");
  if (m[1] === "UNKNOWN") return null;
  if (!m[2]) throw new ProxyProtocolError("PROXY v1 header without addresses");
  return { address: m[2], port: Number(m[4]) };
}

async function readV2(input: SmtpInput): Promise<ProxiedAddress | null> {
  const fixed = await input.peek(16);
  if (fixed.length < 16) throw new ProxyProtocolError("truncated PROXY v2 header");
  const verCmd = fixed[12]!;
  const fam = fixed[13]!;
  const len = fixed.readUInt16BE(14);
  if (verCmd >> 4 !== 2) throw new ProxyProtocolError("unsupported PROXY version");
  if (len > 1024) throw new ProxyProtocolError("PROXY v2 header too long");
  const all = await input.peek(16 + len);
  if (all.length < 16 + len) throw new ProxyProtocolError("truncated PROXY v2 header");
  input.take(16 + len);
  const body = all.subarray(16);
  if ((verCmd & 0x0f) === 0) return null; // LOCAL
  if (fam >> 4 === 1 && len >= 12) {
    return { address: [...body.subarray(0, 4)].join("."), port: body.readUInt16BE(8) };
  }
  if (fam >> 4 === 2 && len >= 36) {
    const parts: string[] = [];
    for (let i = 0; i < 16; i += 2) parts.push(body.readUInt16BE(i).toString(16));
    return { address: parts.join(":"), port: body.readUInt16BE(32) };
  }
  return null;
}
