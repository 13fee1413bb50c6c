// The cluster agent without PostgreSQL: two runtimes on one SQLite file have no LISTEN, so this
// exercises the polling fallback, refusal with the last good revision kept, and re-apply.
import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import pino from "pino";
import { Runtime } from "../runtime.ts";
import { ClusterAgent } from "./agent.ts";
import { publishRevision } from "./publish.ts";

const log = pino({ level: "silent" });
const open: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.stop();
});

async function node(name: string, db: string, local = "") {
  const text = `node: { name: ${name}, role: mx }\nstore: "sqlite:${db}"\nlog: { level: silent }\n${local}`;
  const runtime = await Runtime.create({ configText: text, logger: log });
  let localText = text;
  const agent = new ClusterAgent({
    runtime,
    store: runtime.store!,
    identity: { name, role: "mx" },
    localText: () => localText,
    log,
    heartbeatMs: 100,
    pollDownMs: 50,
  });
  await agent.start();
  open.push({ stop: async () => (await agent.stop(), await runtime.close()) });
  return { runtime, agent, setLocal: (t: string) => (localText = t) };
}

const waitFor = async (probe: () => boolean, ms = 3000) => {
  const until = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
};

const rev = (domains: string) => `tenants:\n  - { id: example, domains: [${domains}] }\n`;

describe("ClusterAgent (polling, SQLite)", () => {
  it("applies new revisions by polling, keeps the last good one when one cannot apply", async () => {
    const db = join(mkdtempSync(join(tmpdir(), "sluice-agent-")), "s.db");
    const a = await node("a", db);
    const b = await node("b", db);
    expect(a.agent.status()).toMatchObject({ appliedRev: null, listening: false, storeReachable: true });
    const r1 = await publishRevision(a.runtime.store!, a.runtime.registry, {
      role: "mx",
      text: rev("example.com"),
      author: "t",
    });
    await waitFor(() => a.agent.status().appliedRev === r1.rev && b.agent.status().appliedRev === r1.rev);
    expect(b.runtime.config.tenants[0]!.domains).toEqual(["example.com"]);

    // Valid on its own, but not over b's (broken) file.
    b.setLocal(
      `node: { name: b, role: mx }\nstore: "sqlite:${db}"\nlog: { level: silent }\nspool: { dir: 5 }\n`,
    );
    const r2 = await publishRevision(a.runtime.store!, a.runtime.registry, {
      role: "mx",
      text: rev("example.com, example.org"),
      author: "t",
    });
    await waitFor(() => a.agent.status().appliedRev === r2.rev && b.agent.status().failedRev === r2.rev);
    expect(b.agent.status().appliedRev).toBe(r1.rev);
    expect(b.agent.status().error).toMatch(/spool\.dir/);
    expect(b.runtime.config.tenants[0]!.domains).toEqual(["example.com"]);
    const hb = async () => (await a.runtime.store!.listHeartbeats()).find((h) => h.name === "b");
    const until = Date.now() + 3000;
    while ((await hb())?.health !== "apply_failed" && Date.now() < until)
      await new Promise((r) => setTimeout(r, 20));
    expect(await hb()).toMatchObject({ health: "apply_failed", failedRev: r2.rev, appliedRev: r1.rev });

    // Still broken: SIGHUP's re-apply reports the error again.
    await expect(b.agent.reapply()).rejects.toThrow(/spool\.dir/);
    // The file is fixed: SIGHUP reads it again and the refused revision now applies.
    b.setLocal(`node: { name: b, role: mx }\nstore: "sqlite:${db}"\nlog: { level: silent }\n`);
    await b.agent.reapply();
    expect(b.agent.status()).toMatchObject({ appliedRev: r2.rev, failedRev: null, error: null });
    expect(b.runtime.source).toBe(`revision ${r2.rev} (role mx)`);
    expect((await hb())?.health).toBe("ok");
    await b.agent.reapply();
    expect(b.runtime.config.tenants[0]!.domains).toEqual(["example.com", "example.org"]);
  });
});
