import { afterEach, describe, expect, it } from "vitest";
import { ProgressTicker } from "./progress.ts";

const tickers: ProgressTicker[] = [];
afterEach(() => tickers.splice(0).forEach((t) => t.close()));

describe("ProgressTicker", () => {
  it("calls a waiting connection about once per interval, and never after it stopped waiting", async () => {
    const t = new ProgressTicker(40);
    tickers.push(t);
    let a = 0;
    let b = 0;
    const wa = { progress: () => a++ };
    const wb = { progress: () => b++ };
    t.start(wa);
    t.start(wb);
    t.stop(wb);
    await new Promise((r) => setTimeout(r, 230));
    expect(a).toBeGreaterThanOrEqual(3);
    expect(a).toBeLessThanOrEqual(6);
    expect(b).toBe(0);
    t.stop(wa);
    const seen = a;
    await new Promise((r) => setTimeout(r, 100));
    expect(a).toBe(seen);
  });

  it("a short wait gets no PROGRESS", async () => {
    const t = new ProgressTicker(50);
    tickers.push(t);
    let n = 0;
    const w = { progress: () => n++ };
    for (let i = 0; i < 5; i++) {
      t.start(w);
      await new Promise((r) => setTimeout(r, 20));
      t.stop(w);
    }
    expect(n).toBe(0);
  });
});
