// Test helper: one Sluice cluster node in this process — Runtime on a shared PostgreSQL store,
// SMTP listeners on free ports, and its ClusterAgent — plus small SMTP and waiting utilities.
// Several of these make the cluster of the integration tests and the benchmark.
import pino from "pino";
import { Runtime } from "../../src/runtime.ts";
import { ClusterAgent } from "../../src/cluster/agent.ts";
import { ShadowEvaluator, shadowedRuntime } from "../../src/cluster/shadow.ts";
import { nodeIdentity } from "../../src/cluster/identity.ts";
import { startSmtpListeners, type SmtpListeners } from "../../src/smtp/listener.ts";
import { loadTls } from "../../src/smtp/tls.ts";
import type { Filter } from "../../src/pipeline/types.ts";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { RawClient } from "./raw-client.ts";

export interface Node {
  name: string;
  runtime: Runtime;
  agent: ClusterAgent;
  listeners: SmtpListeners;
  port: number;
  close(): Promise<void>;
}

const tlsDir = mkdtempSync(join(tmpdir(), "sluice-cluster-tls-"));

/** A node's own file: identity, store, listeners; the cluster sections come from revisions. */
export function localConfig(name: string, role: string, storeUrl: string, sinkPort: number): string {
  const dir = mkdtempSync(join(tmpdir(), `sluice-${name}-`));
  return `
node: { name: ${name}, role: ${role} }
store: ${storeUrl}
log: { level: silent }
spool: { dir: ${dir}/spool }
delivery: smtp://127.0.0.1:${sinkPort}
smtp:
  hostname: ${name}.test
  listeners:
    inbound: { listen: "127.0.0.1:0" }
    submission: { enabled: false }
    submissions: { enabled: false }
milter: { enabled: false }
tenants:
  - id: example
    domains: [example.com]
    users: [{ address: alice@example.com }]
`;
}

export async function startNode(
  name: string,
  local: string,
  opts: { extraFilters?: Filter[]; pollMs?: number; pollDownMs?: number; listen?: boolean } = {},
): Promise<Node> {
  const logger = pino({ level: process.env.SLUICE_TEST_LOG ?? "silent" });
  const runtime = await Runtime.create({ configText: local, logger, extraFilters: opts.extraFilters });
  const tls = await loadTls(undefined, tlsDir, `${name}.test`);
  const identity = nodeIdentity(runtime.config, {});
  const shadow = new ShadowEvaluator({
    store: runtime.store!,
    nodeName: identity.name,
    log: logger,
    extraFilters: opts.extraFilters,
    flushMs: 200,
  });
  const listeners = await startSmtpListeners(shadowedRuntime(runtime, shadow), tls, logger);
  const store = runtime.store!;
  const agent = new ClusterAgent({
    runtime,
    // listen: false hides LISTEN/NOTIFY, leaving the agent to its polling fallback.
    store:
      opts.listen === false
        ? Object.assign(Object.create(store) as typeof store, { watchConfig: undefined })
        : store,
    identity,
    shadow,
    localText: () => local,
    log: logger,
    heartbeatMs: 500,
    pollMs: opts.pollMs,
    pollDownMs: opts.pollDownMs ?? 300,
  });
  await agent.start();
  return {
    name,
    runtime,
    agent,
    listeners,
    port: Number(listeners.addresses.inbound!.split(":").pop()),
    async close() {
      await agent.stop();
      await listeners.close();
      await runtime.close();
    },
  };
}

/** Resolves when every node has applied `rev` (or failed it, if allowed); rejects after ms. */
export async function waitApplied(nodes: Node[], rev: number, ms = 5000): Promise<number> {
  const t0 = performance.now();
  while (!nodes.every((n) => n.agent.status().appliedRev === rev)) {
    if (performance.now() - t0 > ms) {
      throw new Error(`not applied within ${ms} ms: ${JSON.stringify(nodes.map((n) => n.agent.status()))}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now() - t0;
}

export async function waitUntil(
  what: string,
  ms: number,
  probe: () => boolean | Promise<boolean>,
): Promise<void> {
  const until = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > until) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Open an SMTP session up to an accepted RCPT; the caller finishes it with sendData. */
export async function openSession(port: number, rcpt: string, from = "sender@other.org"): Promise<RawClient> {
  const c = await RawClient.open(port);
  try {
    expectCode(await c.reply(), "220");
    expectCode(await c.cmd("EHLO client.other.org"), "250");
    expectCode(await c.cmd(`MAIL FROM:<${from}>`), "250");
    expectCode(await c.cmd(`RCPT TO:<${rcpt}>`), "250");
    return c;
  } catch (err) {
    c.close(); // else the listener waits for this connection when the test stops it
    throw err;
  }
}

export async function sendData(c: RawClient, body: string, subject = "test"): Promise<string> {
  expectCode(await c.cmd("DATA"), "354");
  c.send(`From: <sender@other.org>\r\nTo: <x@example.com>\r\nSubject: ${subject}\r\n\r\n${body}\r\n.\r\n`);
  const r = await c.reply();
  c.send("QUIT\r\n");
  return r;
}

function expectCode(reply: string, code: string): void {
  if (!reply.startsWith(code)) throw new Error(`expected ${code}, got: ${reply}`);
}
