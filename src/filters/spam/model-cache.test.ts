// The model cache: one load per file, no file-system call per scan, a replaced file picked up
// by the background poll (the old model scores until the new one has loaded), a corrupt
// replacement ignored.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { emptyModel } from "./learner.ts";
import { ModelCache } from "./model-cache.ts";

const until = async (cond: () => Promise<boolean>) => {
  for (let i = 0; i < 200 && !(await cond()); i++) await new Promise((r) => setTimeout(r, 5));
};

describe("ModelCache", () => {
  it("serves the loaded model without looking at the file until the poll interval has passed", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "model-cache-")), "m.model.gz");
    const one = emptyModel({ bits: 10, maxChars: 100, source: "one" });
    await one.save(path);
    let now = 1_000_000;
    const cache = new ModelCache({ recheckMs: 5000, now: () => now });
    const first = await cache.get(path);
    expect(first.meta.source).toBe("one");
    expect(await cache.get(path)).toBe(first);

    const two = emptyModel({ bits: 10, maxChars: 100, source: "two, a longer source" });
    await two.save(path);
    now += 4999;
    expect(await cache.get(path)).toBe(first); // not checked yet
    now += 1;
    expect(await cache.get(path)).toBe(first); // this call starts the poll, answers at once
    await until(async () => (await cache.get(path)).meta.source !== "one");
    expect((await cache.get(path)).meta.source).toBe("two, a longer source");

    // A corrupt replacement: the loaded model stays.
    writeFileSync(path, "not a model");
    now += 5000;
    const kept = await cache.get(path);
    await new Promise((r) => setTimeout(r, 50));
    expect(kept.meta.source).toBe("two, a longer source");
    expect((await cache.get(path)).meta.source).toBe("two, a longer source");
  });

  it("does not cache a failed first load", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "model-cache-")), "m.model.gz");
    const cache = new ModelCache();
    await expect(cache.get(path)).rejects.toThrow(/cannot read/);
    await emptyModel({ bits: 10, maxChars: 100, source: "later" }).save(path);
    expect((await cache.get(path)).meta.source).toBe("later");
  });
});
