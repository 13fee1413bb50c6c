// Loads each model file once and shares it between all scans (and all sessions) of a runtime.
// Not a global: the filter set owns one cache. A file replaced on disk is picked up by a poll
// (at most one stat per path per `recheckMs`, in the background): scoring never waits on the
// file system once the model is loaded, and the old model scores until the new one has loaded.
import { stat } from "node:fs/promises";
import { SpamModel } from "./model.ts";

/** How often a loaded model file is checked for a newer version (mtime and size). */
export const MODEL_RECHECK_MS = 5000;

interface Entry {
  /** Identity of the loaded file ("mtime:size"; "" when it could not be read). */
  version: string;
  model: Promise<SpamModel>;
  checkedAt: number;
  checking: boolean;
}

async function fileVersion(path: string): Promise<string> {
  try {
    const st = await stat(path);
    return `${st.mtimeMs}:${st.size}`;
  } catch {
    return "";
  }
}

export class ModelCache {
  private readonly entries = new Map<string, Entry>();
  private readonly recheckMs: number;
  private readonly now: () => number;

  constructor(opts: { recheckMs?: number; now?: () => number } = {}) {
    this.recheckMs = opts.recheckMs ?? MODEL_RECHECK_MS;
    this.now = opts.now ?? Date.now;
  }

  get(path: string): Promise<SpamModel> {
    const hit = this.entries.get(path);
    if (!hit) return this.first(path);
    if (!hit.checking && this.now() - hit.checkedAt >= this.recheckMs) void this.recheck(path, hit);
    return hit.model;
  }

  /** The first load of a path (awaited by its first caller; a failure is not cached). */
  private first(path: string): Promise<SpamModel> {
    const entry: Entry = { version: "", model: null!, checkedAt: this.now(), checking: false };
    entry.model = fileVersion(path).then((v) => {
      entry.version = v;
      return SpamModel.load(path);
    });
    this.entries.set(path, entry);
    entry.model.catch(() => {
      if (this.entries.get(path) === entry) this.entries.delete(path);
    });
    return entry.model;
  }

  /** Background poll: a changed file is loaded, then swapped in; a bad one leaves the old model. */
  private async recheck(path: string, hit: Entry): Promise<void> {
    hit.checking = true;
    hit.checkedAt = this.now();
    try {
      const v = await fileVersion(path);
      if (v === "" || v === hit.version) return;
      const model = await SpamModel.load(path);
      if (this.entries.get(path) === hit) {
        this.entries.set(path, {
          version: v,
          model: Promise.resolve(model),
          checkedAt: this.now(),
          checking: false,
        });
      }
    } catch {
      // A half-written or corrupt file: keep scoring with the loaded model; the next poll retries.
    } finally {
      hit.checking = false;
    }
  }
}
