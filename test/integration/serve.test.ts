// `sluice serve` as an operator runs it: starts, serves /healthz and /metrics, reloads on
// SIGHUP (refusing a bad file and keeping the old one), stops cleanly on SIGTERM.
import { describe, it, expect } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { NODE, SLUICE } from "../helpers/cli.ts";
import { freePort } from "../helpers/ports.ts";

interface Node {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  waitFor(pred: (l: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
}

function start(args: string[], cwd: string): Node {
  const child = spawn(NODE, [SLUICE, "serve", ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  const lines: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  let buf = "";
  child.stdout!.on("data", (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf("\n")) !== -1) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      lines.push(JSON.parse(line));
      for (const w of waiters.splice(0)) w();
    }
  });
  return {
    child,
    lines,
    waitFor(pred, ms = 15_000) {
      return new Promise((resolve, reject) => {
        const deadline = setTimeout(
          () => reject(new Error(`timeout; log so far:\n${lines.map((l) => JSON.stringify(l)).join("\n")}`)),
          ms,
        );
        const check = () => {
          const hit = lines.find(pred);
          if (hit) {
            clearTimeout(deadline);
            resolve(hit);
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}

describe("sluice serve", () => {
  it("serves /healthz and /metrics, reloads on SIGHUP, refuses a bad reload, stops on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-serve-"));
    const port = await freePort();
    const cfg = join(dir, "sluice.yaml");
    const listeners = `smtp:\n  listeners:\n    inbound: { listen: "127.0.0.1:0" }\n    submission: { listen: "127.0.0.1:0" }\n    submissions: { listen: "127.0.0.1:0" }\nmilter:\n  listen: ["inet:127.0.0.1:0"]\n`;
    const good = `web: { listen: "127.0.0.1:${port}" }\n${listeners}store: sqlite:${dir}/s.db\ntenants:\n  - id: a\n    domains: [a.example]\n`;
    writeFileSync(cfg, good);
    const node = start(["--config", cfg], dir);
    await node.waitFor((l) => l.msg === "ready");
    const milter = node.lines.find((l) => l.listener === "milter");
    expect(milter?.port).toBeGreaterThan(0);
    const health = await (await fetch(`http://127.0.0.1:${port}/healthz`)).json();
    expect(health).toMatchObject({ status: "ok", store: "open" });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain("sluice_recipient_verdicts_total");
    expect(metrics).toContain("sluice_filter_duration_seconds");

    writeFileSync(cfg, good + "  - id: b\n    domains: ['bad domain']\n");
    node.child.kill("SIGHUP");
    const refused = await node.waitFor((l) => String(l.msg).startsWith("configuration reload refused"));
    expect(JSON.stringify(refused.issues)).toContain("tenants[1].domains[0]: not a domain name");
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

    writeFileSync(cfg, good);
    node.child.kill("SIGHUP");
    await node.waitFor((l) => l.msg === "configuration reloaded");

    node.child.kill("SIGTERM");
    const [code] = await new Promise<[number | null]>((r) => node.child.once("exit", (c) => r([c])));
    expect(code).toBe(0);
    expect(node.lines.some((l) => l.msg === "stopped")).toBe(true);
  }, 40_000);

  it("starts on the embedded quick-start configuration without a file and says so", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-quick-"));
    const node = start([], dir);
    try {
      const hello = await node.waitFor((l) => String(l.msg).includes("embedded quick-start"));
      expect(JSON.stringify(hello)).toContain("alice@example.com (spam filter ON)");
      expect(JSON.stringify(hello)).toContain("bob@example.com (spam filter OFF)");
      await node.waitFor((l) => l.msg === "listening" && l.listener === "web");
    } finally {
      node.child.kill("SIGTERM");
      await new Promise((r) => node.child.once("exit", r));
    }
  }, 40_000);
});
