// The real `sluice quarantine …` and `sluice hold …` commands on a configured store, with
// Postfix's smtp-sink as the next hop: filters (tenant, recipient, since, state), show --raw,
// release once (exit 1 when nothing is left), delete, hold release/cancel, usage errors exit 2.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { emptyEnvelope } from "../../src/message/envelope.ts";
import { run } from "../helpers/cli.ts";
import { haveTool } from "../helpers/require-tool.ts";
import { startSink, SMTP_SINK, type Sink } from "../helpers/smtp-sink.ts";

const enabled = haveTool(SMTP_SINK, "postfix");

// Each command is a fresh Node process (1–3 s on a loaded machine): generous per-test time.
describe.skipIf(!enabled)("sluice quarantine / hold", { timeout: 180_000 }, () => {
  let sink: Sink;
  let cfg: string;
  beforeAll(async () => {
    sink = await startSink();
    const dir = mkdtempSync(join(tmpdir(), "sluice-qcli-"));
    cfg = join(dir, "sluice.yaml");
    writeFileSync(
      cfg,
      `store: sqlite:${dir}/store.db
delivery: smtp://127.0.0.1:${sink.port}
log: { level: warn }
tenants:
  - { id: example, domains: [example.com] }
  - { id: other, domains: [other.example] }
`,
    );
    const store = new SqliteStore(`${dir}/store.db`);
    await store.migrate();
    const q = async (id: string, tenant: string, rcpts: string[]) => {
      const env = emptyEnvelope("inbound");
      env.mailFrom = { address: "s@x.org", params: {} };
      env.recipients = rcpts.map((address) => ({ address, params: {} }));
      await store.putQuarantine({
        id,
        tenant,
        envelope: env,
        score: 11,
        symbols: [{ name: "BAYES_SPAM", score: 11 }],
        subject: `subject ${id}`,
        message: Buffer.from(`Subject: subject ${id}\r\n\r\nbody ${id}\r\n`),
        recipients: rcpts.map((address) => ({ address, reason: "spam" })),
      });
    };
    await q("CQ1", "example", ["alice@example.com", "bob@example.com"]);
    await q("CQ2", "other", ["zed@other.example"]);
    const env = emptyEnvelope("submission");
    env.mailFrom = { address: "alice@example.com", params: {} };
    env.recipients = [{ address: "far@elsewhere.org", params: {} }];
    for (const id of ["CH1", "CH2"]) {
      await store.putHold({
        id,
        tenant: "example",
        envelope: env,
        reason: "external",
        releaseAt: new Date(Date.now() + 3_600_000),
        message: Buffer.from(`Subject: held ${id}\r\n\r\nheld body ${id}\r\n`),
      });
    }
    await store.close();
  });
  afterAll(async () => {
    await sink.stop();
  });

  it("lists with filters and shows an entry", async () => {
    const all = await run(["quarantine", "list", "-c", cfg]);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toMatch(/^ID\tCREATED/);
    expect(all.stdout).toContain("CQ1");
    expect(all.stdout).toContain("CQ2");
    const t = await run(["quarantine", "list", "-c", cfg, "--tenant", "other", "--json"]);
    expect(
      t.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).id),
    ).toEqual(["CQ2"]);
    const r = await run(["quarantine", "list", "-c", cfg, "--recipient", "BOB@example.com"]);
    expect(r.stdout).toContain("CQ1");
    expect(r.stdout).not.toContain("CQ2");
    const s = await run(["quarantine", "list", "-c", cfg, "--since", "1h"]);
    expect(s.stdout).toContain("CQ1");
    const future = await run(["quarantine", "list", "-c", cfg, "--since", "2999-01-01"]);
    expect(future.stdout.trim().split("\n")).toHaveLength(1);
    const bad = await run(["quarantine", "list", "-c", cfg, "--since", "yesterday"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--since: expected an ISO date/);
    const show = await run(["quarantine", "show", "-c", cfg, "CQ1"]);
    expect(show.stdout).toContain("recipient: alice@example.com quarantined (spam)");
    expect(show.stdout).toContain("symbols: BAYES_SPAM(11)");
    const raw = await run(["quarantine", "show", "-c", cfg, "CQ1", "--raw"]);
    expect(raw.stdout).toBe("Subject: subject CQ1\r\n\r\nbody CQ1\r\n");
    expect((await run(["quarantine", "show", "-c", cfg, "NOPE"])).code).toBe(2);
  });

  it("releases once, deletes, and reports what it could not do", async () => {
    const rel = await run(["quarantine", "release", "-c", cfg, "CQ1", "--rcpt", "alice@example.com"]);
    expect(rel.code, rel.stderr).toBe(0);
    expect(rel.stdout).toBe("released CQ1 to alice@example.com\n");
    expect(sink.messages().filter((m) => m.includes("body CQ1")).length).toBe(1);
    const again = await run(["quarantine", "release", "-c", cfg, "CQ1", "--rcpt", "alice@example.com"]);
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(/not released CQ1 to alice@example\.com: not quarantined \(released\)/);
    const del = await run(["quarantine", "delete", "-c", cfg, "CQ1"]);
    expect(del.code).toBe(0);
    const state = await run(["quarantine", "list", "-c", cfg, "--state", "deleted", "--json"]);
    const item = JSON.parse(state.stdout.trim());
    expect(item.recipients.map((r: { state: string }) => r.state)).toEqual(["released", "deleted"]);
    expect(sink.messages().filter((m) => m.includes("body CQ1")).length).toBe(1);
  });

  it("lists, sends and cancels held mail", async () => {
    const list = await run(["hold", "list", "-c", cfg, "--recipient", "far@elsewhere.org"]);
    expect(list.stdout).toMatch(/CH1\theld\t/);
    expect(list.stdout).toMatch(/CH2\theld\t/);
    const send = await run(["hold", "release", "-c", cfg, "CH1"]);
    expect(send.code, send.stderr).toBe(0);
    expect(sink.messages().filter((m) => m.includes("held body CH1")).length).toBe(1);
    const cancel = await run(["hold", "cancel", "-c", cfg, "CH2"]);
    expect(cancel.stdout).toBe("cancelled CH2\n");
    const twice = await run(["hold", "cancel", "-c", cfg, "CH2"]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/already cancelled/);
    const states = await run(["hold", "list", "-c", cfg, "--json"]);
    expect(
      states.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
        .map((h: { id: string; state: string }) => `${h.id}:${h.state}`)
        .sort(),
    ).toEqual(["CH1:released", "CH2:cancelled"]);
    expect(sink.messages().filter((m) => m.includes("held body CH2"))).toEqual([]);
  });
});
