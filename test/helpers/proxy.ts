// Test helper: a Sluice SMTP proxy in this process (runtime + listeners on free ports)
// with a private SQLite store, a self-signed certificate and a given configuration.
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import pino from "pino";
import { Runtime } from "../../src/runtime.ts";
import { startSmtpListeners, type SmtpListeners } from "../../src/smtp/listener.ts";
import { loadTls } from "../../src/smtp/tls.ts";
import type { Filter } from "../../src/pipeline/types.ts";

export interface Proxy {
  runtime: Runtime;
  listeners: SmtpListeners;
  port(kind: "inbound" | "submission" | "submissions"): number;
  dir: string;
  close(): Promise<void>;
}

const tlsDir = mkdtempSync(join(tmpdir(), "sluice-tls-"));

export async function startProxy(
  config: (dir: string) => string,
  extraFilters: Filter[] = [],
): Promise<Proxy> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-proxy-"));
  const runtime = await Runtime.create({
    configText: config(dir),
    logger: pino({ level: process.env.SLUICE_TEST_LOG ?? "silent" }),
    extraFilters,
  });
  const tls = await loadTls(undefined, tlsDir, "mx.test");
  const listeners = await startSmtpListeners(runtime, tls, runtime.log);
  return {
    runtime,
    listeners,
    dir,
    port: (kind) => Number(listeners.addresses[kind]!.split(":").pop()),
    async close() {
      await listeners.close();
      await runtime.close();
    },
  };
}
