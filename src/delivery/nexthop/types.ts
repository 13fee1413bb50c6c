// The NextHop seam: hand one copy of a message to where it goes next and say, per
// recipient, whether it was accepted. A resolved deliver() means the next hop answered.
import type { Readable } from "node:stream";
import type { Address } from "../../message/envelope.ts";
import type { SmtpReply } from "../../message/types.ts";

export interface DeliveryRequest {
  id: string;
  from: Address;
  recipients: Address[];
  size: number;
  /** A fresh stream of the whole message (headers with edits, then the body). */
  message: () => Readable;
}

export interface DeliveryFailure {
  address: string;
  reply: SmtpReply;
  permanent: boolean;
}

export interface DeliveryResult {
  accepted: string[];
  failed: DeliveryFailure[];
}

export interface NextHop {
  readonly target: string;
  deliver(req: DeliveryRequest): Promise<DeliveryResult>;
}

/** Everyone in the request failed the same way (connection refused, timeout …). */
export function allFailed(req: DeliveryRequest, reply: SmtpReply, permanent: boolean): DeliveryResult {
  return { accepted: [], failed: req.recipients.map((r) => ({ address: r.address, reply, permanent })) };
}
