// The proxy's commit journal: a message whose copies may be written to the store has a marker
// file (spool/pending/REF) from before its first store write until just before its reply is
// sent. A node killed in between never answered 250, so at start every marker left over means
// stored copies nobody acknowledged: they are removed (the sender retries and the retry stores
// them once). Copies handed to a next hop cannot be called back: that window (next hop
// accepted, client not yet answered) is SMTP's own (RFC 1047) and gives a duplicate, never a loss.
import { mkdir, open, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import type { Store } from "../store/types.ts";

/** Where the journal lives: beside the spool, on the node's own disk. */
export function pendingDir(spoolDir: string): string {
  return join(spoolDir, "pending");
}

export class PendingCommit {
  private readonly path: string;
  private marked: Promise<void> | null = null;

  constructor(dir: string, ref: string) {
    this.path = join(dir, ref);
  }

  /** Write the marker (once, durably) before the first stored copy. */
  mark(): Promise<void> {
    this.marked ??= (async () => {
      await mkdir(join(this.path, ".."), { recursive: true });
      const fh = await open(this.path, "w", 0o600);
      await fh.sync();
      await fh.close();
    })();
    return this.marked;
  }

  /** The outcome stands (its reply goes out next): forget the marker. */
  async clear(): Promise<void> {
    if (this.marked) await rm(this.path, { force: true });
  }

  /** A store whose copy writes are journaled first. */
  journaled(store: Store | null): Store | null {
    if (!store) return null;
    return new Proxy(store, {
      get: (target, prop, receiver) => {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (prop !== "putQuarantine" && prop !== "putHold") return v;
        return async (...args: unknown[]) => {
          await this.mark();
          return (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        };
      },
    });
  }
}

/** Copy ids are derived from the reference (delivery/copies.ts CopyIds): ref, ref-Q2…, ref-F…, ref-H1…. */
const MAX_COPIES = 64;

/** At start: remove the stored copies of every message that was never answered. */
export async function recoverPending(dir: string, store: Store | null, log: Logger): Promise<number> {
  let refs: string[];
  try {
    refs = await readdir(dir);
  } catch {
    return 0;
  }
  let n = 0;
  for (const ref of refs) {
    if (!/^[0-9A-Z]{16}$/.test(ref)) continue;
    if (!store) break;
    const removed: string[] = [];
    for (const [kind, ids] of series(ref)) {
      for (const id of ids) {
        const found = kind === "hold" ? await store.getHold(id) : await store.getQuarantine(id);
        if (!found) break;
        await (kind === "hold" ? store.deleteHold(id) : store.deleteQuarantine(id));
        removed.push(id);
      }
    }
    await rm(join(dir, ref), { force: true });
    log.warn({ id: ref, removed }, "unanswered message from before a crash: its stored copies are removed");
    n++;
  }
  return n;
}

/** Each id series in the order CopyIds hands them out; a series ends at its first gap. */
function series(ref: string): ["quarantine" | "hold", string[]][] {
  const n = (f: (i: number) => string) => Array.from({ length: MAX_COPIES }, (_, i) => f(i + 1));
  return [
    ["quarantine", n((i) => (i === 1 ? ref : `${ref}-Q${i}`))],
    ["quarantine", n((i) => (i === 1 ? `${ref}-F` : `${ref}-F${i}`))],
    ["hold", n((i) => `${ref}-H${i}`)],
  ];
}
