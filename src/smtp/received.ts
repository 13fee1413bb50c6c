// Our Received: trace field (RFC 5321 4.4), with the "with" protocol keyword of RFC 3848
// (ESMTP, ESMTPS, ESMTPA, ESMTPSA) and the reference id.
import type { Envelope } from "../message/envelope.ts";

export function receivedHeader(env: Envelope, id: string, recipients: string[], now = new Date()): string {
  const proto = `ESMTP${env.tls ? "S" : ""}${env.auth ? "A" : ""}`;
  const client = `${env.helo ?? "unknown"} (${env.client.name ?? "unknown"} [${env.client.address}])`;
  const tls = env.tls ? ` (using ${env.tls.protocol} with cipher ${env.tls.cipher})` : "";
  const rcpt = recipients.length === 1 ? ` for <${recipients[0]}>` : "";
  return `from ${client}\r\n\tby ${env.localName} (Sluice) with ${proto} id ${id}${tls}${rcpt};\r\n\t${now.toUTCString().replace("GMT", "+0000")}`;
}
