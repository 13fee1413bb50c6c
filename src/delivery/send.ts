// One copy of a message to its recipients, split by next hop (each recipient's route, with its
// ESMTP parameters kept): the one sender behind the proxy's commit, milter re-injection,
// quarantine and hold release, digests and notices. Per-recipient answers come back merged.
import type { Readable } from "node:stream";
import type { Logger } from "pino";
import type { Address, Envelope } from "../message/envelope.ts";
import type { Routes } from "./nexthop/route.ts";
import type { DeliveryFailure } from "./nexthop/types.ts";

export interface Copy {
  /** The message's reference id (logged with each next hop's answer). */
  id: string;
  from: Address;
  recipients: readonly string[];
  /** Where recipients' ESMTP parameters (NOTIFY, ORCPT …) come from, if anywhere. */
  envelope: Envelope | null;
  size: number;
  /** A fresh stream of the whole message for each next hop. */
  message: () => Readable;
}

export interface Sent {
  accepted: string[];
  failed: DeliveryFailure[];
}

export async function sendCopy(
  routes: Routes,
  routeFor: (address: string) => string,
  copy: Copy,
  log: Logger,
): Promise<Sent> {
  const params = new Map((copy.envelope?.recipients ?? []).map((r) => [r.address.toLowerCase(), r.params]));
  const byRoute = new Map<string, Address[]>();
  for (const a of copy.recipients) {
    const route = routeFor(a);
    byRoute.set(route, [
      ...(byRoute.get(route) ?? []),
      { address: a, params: params.get(a.toLowerCase()) ?? {} },
    ]);
  }
  const out: Sent = { accepted: [], failed: [] };
  for (const [target, recipients] of byRoute) {
    const res = await routes.hop(target).deliver({
      id: copy.id,
      from: copy.from,
      recipients,
      size: copy.size,
      message: copy.message,
    });
    out.accepted.push(...res.accepted);
    out.failed.push(...res.failed);
    log.info({ id: copy.id, next_hop: target, accepted: res.accepted, failed: res.failed }, "delivery");
  }
  return out;
}
