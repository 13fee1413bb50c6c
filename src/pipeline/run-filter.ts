// Runs one filter call with its timeout. A throw or a timeout becomes a result (an error
// symbol plus the policy's on_error action) — a filter can never crash the process.
import type { Action, Filter, FilterContext, FilterResult } from "./types.ts";
import { reply } from "../message/replies.ts";

export class FilterTimeoutError extends Error {
  constructor(filter: string, ms: number) {
    super(`filter ${filter} timed out after ${ms} ms`);
    this.name = "FilterTimeoutError";
  }
}

export interface FilterRun {
  result: FilterResult;
  ms: number;
  error: Error | null;
}

export async function runFilter(
  filter: Filter,
  ctx: Omit<FilterContext, "signal">,
  timeoutMs: number,
): Promise<FilterRun> {
  const ac = new AbortController();
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        ac.abort();
        reject(new FilterTimeoutError(filter.name, timeoutMs));
      }, timeoutMs);
    });
    const result = await Promise.race([
      Promise.resolve().then(() => filter.check({ ...ctx, signal: ac.signal })),
      timeout,
    ]);
    return { result: result ?? {}, ms: performance.now() - started, error: null };
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    return { result: {}, ms: performance.now() - started, error };
  } finally {
    clearTimeout(timer);
  }
}

/** The action a filter failure leads to under a policy's on_error. */
export function onErrorAction(onError: "tempfail" | "accept" | "reject", filter: string): Action | undefined {
  if (onError === "accept") return undefined;
  if (onError === "reject") {
    return {
      type: "reject",
      reply: reply("filterRejected"),
      reason: `${filter} failed`,
    };
  }
  return {
    type: "tempfail",
    reply: reply("filterFailed"),
    reason: `${filter} failed`,
  };
}

/** Symbol name for a filter failure, e.g. SIZE_ERROR, HEADER_SANITY_ERROR. */
export function errorSymbol(filter: string): string {
  return `${filter.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_ERROR`;
}
