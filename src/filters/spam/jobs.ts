// The scheduled job of a serving node: every `compact_minutes` (classifier option of the global
// policy, default 60) the lessons of each scope are compacted into a new model revision. In a
// cluster every node runs the timer; a single-use token per scope and time slot lets exactly one
// of them compact (the others pick the revision up like any other).
import type { Logger } from "pino";
import type { JobStore } from "../../store/types.ts";
import type { SpamLearning } from "./learning.ts";
import { ModelCache } from "./model-cache.ts";
import { DEFAULT_MODEL_PATH } from "./classifier.ts";

export interface SpamJobDeps {
  learning: SpamLearning | null;
  store: Partial<JobStore> | null;
  /** The global policy's spam-classifier options (model file, compact_minutes). */
  options: () => { model?: string; compact_minutes?: number } | undefined;
  log: Logger;
}

export interface SpamJobs {
  /** One round now (also what the timer runs); returns the revisions published. */
  runOnce(now?: Date): Promise<number[]>;
  stop(): Promise<void>;
}

const files = new ModelCache();

export function startSpamJobs(deps: SpamJobDeps): SpamJobs {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> = Promise.resolve();
  const minutes = () => Math.max(1, deps.options()?.compact_minutes ?? 60);

  async function runOnce(now = new Date()): Promise<number[]> {
    const learning = deps.learning;
    if (!learning) return [];
    const periodMs = minutes() * 60_000;
    const slot = Math.floor(now.getTime() / periodMs);
    const base = () => files.get(deps.options()?.model ?? DEFAULT_MODEL_PATH);
    const scopes = [...new Set((await learning.store.spamLessonStats()).map((s) => s.scope))];
    const published: number[] = [];
    for (const scope of scopes) {
      const token = `spam-compact:${scope}:${slot}`;
      if (
        deps.store?.consumeToken &&
        !(await deps.store.consumeToken(token, new Date((slot + 2) * periodMs)))
      )
        continue; // another node has this slot
      const rev = await learning.compact(scope, base, "compaction", now).catch((err: Error) => {
        deps.log.warn({ scope, err: err.message }, "spam model compaction failed");
        return null;
      });
      if (rev) published.push(rev.rev);
    }
    return published;
  }

  const tick = () => {
    running = runOnce()
      .catch((err: Error) => deps.log.warn({ err: err.message }, "spam jobs failed"))
      .finally(() => {
        if (timer) timer = setTimeout(tick, minutes() * 60_000).unref();
      });
  };
  timer = setTimeout(tick, minutes() * 60_000).unref();
  return {
    runOnce,
    async stop() {
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
    },
  };
}
