import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { Routes } from "./route.ts";

describe("next-hop metrics", () => {
  it("counts each delivery attempt by target and result, and times it", async () => {
    const registry = new Registry();
    const dir = mkdtempSync(join(tmpdir(), "sluice-route-"));
    const routes = new Routes("mx.test", 5_000, registry);
    const target = `maildir:${dir}`;
    const message = Buffer.from("Subject: hi\r\n\r\nbody\r\n");
    const res = await routes.hop(target).deliver({
      id: "M1",
      from: { address: "a@x.test", params: {} },
      recipients: [{ address: "bob@example.com", params: {} }],
      size: message.length,
      message: () => Readable.from([message]),
    });
    expect(res.accepted).toEqual(["bob@example.com"]);
    expect(readdirSync(join(dir, "example.com", "bob", "new")).length).toBe(1);
    const text = await registry.metrics();
    expect(text).toContain(`sluice_delivery_attempts_total{next_hop="${target}",result="ok"} 1`);
    expect(text).toContain(`sluice_delivery_seconds_count{next_hop="${target}"} 1`);
    // A second Routes on the same registry shares the metrics instead of failing to register.
    expect(() => new Routes("mx.test", 5_000, registry).hop(target)).not.toThrow();
  });
});
