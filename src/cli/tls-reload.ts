// TLS certificates read again on SIGHUP (systemctl reload), as renewed certificates need: new
// STARTTLS and port-465 handshakes use the new pair, sessions in flight keep theirs. A pair that
// cannot be read is refused and the old one stays in force.
import { readFileSync } from "node:fs";
import type { Server as HttpsServer } from "node:https";
import type { Logger } from "pino";
import type { Config } from "../config/schema.ts";
import { loadTls, type TlsMaterial } from "../smtp/tls.ts";

export interface TlsTargets {
  /** The SMTP listeners (smtp/listener.ts). */
  smtp: { reloadTls(t: TlsMaterial): void };
  /** The web listener's server when web.tls is set. */
  web: HttpsServer | null;
}

export async function reloadTls(
  config: Config,
  targets: TlsTargets,
  log: Logger,
  varDir = "./var",
): Promise<void> {
  try {
    const t = await loadTls(config.smtp.tls, varDir, config.smtp.hostname);
    targets.smtp.reloadTls(t);
    if (targets.web && config.web.tls) {
      targets.web.setSecureContext({
        cert: readFileSync(config.web.tls.cert),
        key: readFileSync(config.web.tls.key),
      });
    }
    log.info({ cert: t.cert, web: config.web.tls?.cert ?? null }, "TLS certificates reloaded");
  } catch (err) {
    log.error(
      { err: (err as Error).message },
      "TLS certificate reload refused; the previous certificates stay in force",
    );
  }
}
