// Loads each model file once and shares it between all scans (and all sessions) of a runtime.
// Not a global: the filter set owns one cache. A file changed on disk is picked up by mtime.
import { stat } from "node:fs/promises";
import { SpamModel } from "./model.ts";

export class ModelCache {
  private readonly entries = new Map<string, { mtimeMs: number; model: Promise<SpamModel> }>();

  async get(path: string): Promise<SpamModel> {
    let mtimeMs = 0;
    try {
      mtimeMs = (await stat(path)).mtimeMs;
    } catch {
      // Let load() report the missing file with the path.
    }
    const hit = this.entries.get(path);
    if (hit && hit.mtimeMs === mtimeMs) return hit.model;
    const model = SpamModel.load(path);
    this.entries.set(path, { mtimeMs, model });
    // A failed load is not cached: the next message tries again (the file may be fixed).
    model.catch(() => {
      if (this.entries.get(path)?.model === model) this.entries.delete(path);
    });
    return model;
  }
}
