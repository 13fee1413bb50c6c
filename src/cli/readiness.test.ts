// /healthz readiness and /livez: a next hop or a single clamd with on_unavailable: tempfail that
// does not answer makes the node not ready (503); a tenant's own route only degrades it.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Runtime } from "../runtime.ts";
import { startWeb } from "../web/server.ts";
import { Readiness } from "./readiness.ts";

function fake(greeting: (s: import("node:net").Socket) => void): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer(greeting);
    server.listen(0, "127.0.0.1", () =>
      resolve({ server, port: (server.address() as { port: number }).port }),
    );
  });
}
const close = (s: Server) => new Promise((r) => s.close(r));

describe("readiness", () => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-ready-"));
  let hop: Awaited<ReturnType<typeof fake>>;
  let clamd: Awaited<ReturnType<typeof fake>>;
  let runtime: Runtime;
  let web: Awaited<ReturnType<typeof startWeb>>;
  let base: string;
  let readiness: Readiness;

  beforeAll(async () => {
    hop = await fake((s) => s.end("220 next.example ESMTP\r\n"));
    clamd = await fake((s) => s.on("data", () => s.end("PONG\0")));
    runtime = await Runtime.create({
      logger: pino({ level: "silent" }),
      configText: `store: sqlite:${dir}/s.db
delivery: smtp://127.0.0.1:${hop.port}
milter: { enabled: false }
policy:
  filters:
    virus: { enabled: true, options: { clamd: [{ host: 127.0.0.1, port: ${clamd.port} }] } }
tenants:
  - id: a
    domains: [a.example]
    delivery: maildir:${dir}/maildir
  - id: b
    domains: [b.example]
    delivery: lmtp://127.0.0.1:1
`,
    });
    web = await startWeb(runtime, "127.0.0.1:0");
    base = `http://127.0.0.1:${(web.server.address() as { port: number }).port}`;
    readiness = new Readiness(runtime, pino({ level: "silent" }), runtime.metrics.registry, 3_600_000);
    await readiness.start();
  });
  afterAll(async () => {
    readiness.stop();
    await web.close();
    await runtime.close();
    await close(clamd.server);
    rmSync(dir, { recursive: true, force: true });
  });

  it("checks store, clamd and every next hop; a tenant's dead route only degrades", async () => {
    const r = await fetch(`${base}/healthz`);
    expect(r.status).toBe(200);
    const h = (await r.json()) as {
      status: string;
      readiness: { ready: boolean; checks: Record<string, unknown> };
    };
    expect(h.status).toBe("degraded");
    expect(h.readiness.ready).toBe(true);
    const c = h.readiness.checks;
    expect(c.store).toMatchObject({ up: true });
    expect(c["clamd[0]"]).toEqual({ up: true, critical: true, ms: expect.any(Number) });
    expect(c["next_hop[0]"]).toMatchObject({ up: true, critical: true }); // the default delivery
    expect(c["next_hop[1]"]).toMatchObject({ up: true, critical: false }); // tenant a's maildir
    expect(c["next_hop[2]"]).toMatchObject({ up: false, critical: false }); // tenant b's LMTP
    // Public: no addresses, paths or errors in the answer.
    expect(JSON.stringify(h)).not.toMatch(/127\.0\.0\.1|maildir|ECONNREFUSED/);
    const live = await fetch(`${base}/livez`);
    expect(live.status).toBe(200);
    expect(await live.json()).toMatchObject({ status: "alive" });
  });

  it("the default next hop down: 503, status down, metrics say which", async () => {
    await close(hop.server);
    await readiness.check();
    const r = await fetch(`${base}/healthz`);
    expect(r.status).toBe(503);
    const h = (await r.json()) as {
      status: string;
      readiness: { ready: boolean; checks: Record<string, unknown> };
    };
    expect(h.status).toBe("down");
    expect(h.readiness.checks["next_hop[0]"]).toMatchObject({ up: false });
    expect((await fetch(`${base}/livez`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain(`sluice_dependency_up{dependency="next_hop[0]"} 0`);
    expect(metrics).toMatch(/^sluice_ready 0$/m);
    // Store latency (every call timed) and the quarantine's size.
    expect(metrics).toMatch(/^sluice_store_operation_seconds_count\{operation="getCursor"\} [1-9]/m);
    expect(metrics).toMatch(/^sluice_quarantine_entries 0$/m);
  });
});
