// `sluice serve` runs the hold, digest and expiry jobs: a node started after a crash resumes
// an interrupted quarantine release and releases a hold that fell due while it was down —
// each exactly once — and stops its jobs on SIGTERM. Next hop: Postfix's smtp-sink.
import { describe, it, expect } from "vitest";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { emptyEnvelope } from "../../src/message/envelope.ts";
import { NODE, SLUICE } from "../helpers/cli.ts";
import { freePort } from "../helpers/ports.ts";
import { haveTool } from "../helpers/require-tool.ts";
import { startSink, SMTP_SINK } from "../helpers/smtp-sink.ts";

const enabled = haveTool(SMTP_SINK, "postfix");

async function until(pred: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!enabled)("sluice serve runs the quarantine and hold jobs", () => {
  it("resumes an interrupted release and releases a due hold once, then stops on SIGTERM", async () => {
    const sink = await startSink();
    const dir = mkdtempSync(join(tmpdir(), "sluice-hserve-"));
    const store = new SqliteStore(`${dir}/s.db`);
    await store.migrate();
    const env = emptyEnvelope("inbound");
    env.mailFrom = { address: "s@x.org", params: {} };
    env.recipients = [{ address: "alice@a.example", params: {} }];
    await store.putQuarantine({
      id: "SQ1",
      tenant: "a",
      envelope: env,
      score: 10,
      symbols: [],
      subject: "q",
      message: Buffer.from("Subject: q\r\n\r\nquarantined body SQ1\r\n"),
      recipients: [{ address: "alice@a.example", reason: "spam" }],
    });
    // A release claimed by a node that then died before sending.
    await store.claimRelease({
      key: "dead-node",
      kind: "quarantine",
      itemId: "SQ1",
      recipients: "all",
      actor: "x",
    });
    const out = emptyEnvelope("submission");
    out.mailFrom = { address: "alice@a.example", params: {} };
    out.recipients = [{ address: "far@elsewhere.org", params: {} }];
    await store.putHold({
      id: "SH1",
      tenant: "a",
      envelope: out,
      reason: "external",
      releaseAt: new Date(Date.now() - 60_000),
      message: Buffer.from("Subject: h\r\n\r\nheld body SH1\r\n"),
    });
    await store.close();

    const web = await freePort();
    const cfg = join(dir, "sluice.yaml");
    writeFileSync(
      cfg,
      `web: { listen: "127.0.0.1:${web}" }
smtp:
  listeners:
    inbound: { listen: "127.0.0.1:0" }
    submission: { listen: "127.0.0.1:0" }
    submissions: { listen: "127.0.0.1:0" }
milter: { enabled: false }
store: sqlite:${dir}/s.db
delivery: smtp://127.0.0.1:${sink.port}
tenants:
  - { id: a, domains: [a.example], hold: { notify_sender: false } }
`,
    );
    const child = spawn(NODE, [SLUICE, "serve", "--config", cfg], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let log = "";
    child.stdout!.on("data", (d) => (log += d));
    child.stderr!.on("data", (d) => (log += d));
    try {
      const count = (s: string) => sink.messages().filter((m) => m.includes(s)).length;
      await until(() => count("quarantined body SQ1") === 1 && count("held body SH1") === 1).catch(() => {
        throw new Error(`not delivered; log:\n${log}`);
      });
      expect(log).toContain("resuming an interrupted release");
      // Several more hold ticks (every 5 s) must not send anything again.
      await new Promise((r) => setTimeout(r, 5_500));
      expect(count("quarantined body SQ1")).toBe(1);
      expect(count("held body SH1")).toBe(1);
      child.kill("SIGTERM");
      const code = await new Promise<number | null>((res) => child.on("exit", (c) => res(c)));
      expect(code, log).toBe(0);
      expect(log).toContain('"msg":"stopped"');
      const after = new SqliteStore(`${dir}/s.db`);
      expect((await after.getHold("SH1"))?.state).toBe("released");
      expect((await after.getQuarantine("SQ1"))?.recipients[0]?.state).toBe("released");
      expect(await after.openReleases()).toEqual([]);
      await after.close();
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      await sink.stop();
    }
  }, 60_000);
});
