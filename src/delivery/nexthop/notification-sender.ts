// Sends rendered notifications (virus notices, Sieve notify_template, hold notices) from the
// null sender through the recipient's next hop. A notification never changes a verdict; a
// failure is logged by the caller.
import { Readable } from "node:stream";
import { randomBytes } from "node:crypto";
import type { NotificationSender } from "../../notify/index.ts";
import type { Routes } from "./route.ts";

export class NextHopNotificationSender implements NotificationSender {
  private readonly routes: Routes;
  private readonly routeFor: (address: string) => string;
  private readonly sign: (message: Buffer) => Promise<Buffer>;

  /** `sign`: DKIM-signs each notice as its tenant (Runtime.signNotice); default: unsigned. */
  constructor(
    routes: Routes,
    routeFor: (address: string) => string,
    sign: (message: Buffer) => Promise<Buffer> = async (m) => m,
  ) {
    this.routes = routes;
    this.routeFor = routeFor;
    this.sign = sign;
  }

  async send(from: string, to: string, unsigned: Buffer): Promise<void> {
    const message = await this.sign(unsigned);
    const res = await this.routes.hop(this.routeFor(to)).deliver({
      id: `N${randomBytes(6).toString("hex").toUpperCase()}`,
      from: { address: from, params: {} },
      recipients: [{ address: to, params: {} }],
      size: message.length,
      message: () => Readable.from([message]),
    });
    const f = res.failed[0];
    if (f) throw new Error(`${to}: ${f.reply.code} ${f.reply.enhanced} ${f.reply.text}`);
  }
}
