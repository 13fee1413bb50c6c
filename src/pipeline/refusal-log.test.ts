// Refusals before DATA lead somewhere too (issue 23): a reject at connect (no transaction yet)
// and at MAIL get a reference id of their own, a message-log entry and a counter.
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { Runtime } from "../runtime.ts";
import type { Filter } from "./types.ts";

const refuseAt = (
  stage: "connect" | "mail",
  when: (ctx: { envelope: { client: { address: string } } }) => boolean,
): Filter => ({
  name: `refuse_${stage}`,
  group: `refuse_${stage}`,
  stages: [stage],
  priority: 1,
  enabledByDefault: true,
  parseOptions: () => ({}),
  check: (ctx) =>
    when(ctx)
      ? {
          symbols: [{ name: `REFUSED_AT_${stage.toUpperCase()}`, score: 0 }],
          action: { type: "reject", reply: { code: 554, enhanced: "5.7.1", text: `go away (${stage})` } },
        }
      : {},
});

describe("refusals before DATA", () => {
  it("get a reference id, a message-log entry and a counter", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-refusals-"));
    const rt = await Runtime.create({
      configText: `store: sqlite:${dir}/s.db\npolicy: { filters: { auth: { enabled: false } } }\ntenants:\n  - id: acme\n    domains: [acme.test]\n`,
      logger: pino({ level: "silent" }),
      extraFilters: [
        refuseAt("connect", (ctx) => ctx.envelope.client.address === "192.0.2.66"),
        refuseAt("mail", (ctx) => ctx.envelope.client.address === "192.0.2.77"),
      ],
    });
    try {
      const s1 = rt.newSession();
      const r1 = await s1.connect({ ingress: "inbound", address: "192.0.2.66", localName: "mx.test" });
      expect(r1.ok).toBe(false);
      const ref1 = /\[ref ([0-9A-Z]{16})\]/.exec(r1.ok ? "" : r1.reply.text)?.[1];
      expect(ref1).toBeDefined();
      const e1 = await rt.store!.getLog(ref1!);
      expect(e1?.recipients).toEqual([
        expect.objectContaining({
          address: "",
          action: "reject",
          stage: "connect",
          reply: expect.stringContaining(ref1!),
        }),
      ]);

      const s2 = rt.newSession();
      await s2.connect({ ingress: "inbound", address: "192.0.2.77", localName: "mx.test" });
      await s2.helo("client.test");
      const r2 = await s2.mail("someone@remote.example", {});
      expect(r2.ok).toBe(false);
      const ref2 = /\[ref ([0-9A-Z]{16})\]/.exec(r2.ok ? "" : r2.reply.text)?.[1];
      const e2 = await rt.store!.getLog(ref2!);
      expect(e2).toMatchObject({ sender: "someone@remote.example" });
      expect(e2?.recipients[0]).toMatchObject({ action: "reject", stage: "mail" });
      await s2.close();
      const metrics = await rt.metrics.registry.metrics();
      expect(metrics).toMatch(/sluice_refusals_total\{stage="connect",class="5xx"\} 1/);
      expect(metrics).toMatch(/sluice_refusals_total\{stage="mail",class="5xx"\} 1/);
    } finally {
      await rt.close();
    }
  });
});
