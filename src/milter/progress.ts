// SMFIR_PROGRESS keep-alives for MTA connections that wait for an answer: one shared ticker per
// server instead of a timer per command (most answers take well under a millisecond).
// Scheduling only; the connection writes the packet.

export interface Waiting {
  /** Called at most every `intervalMs` while the connection waits: send PROGRESS. */
  progress(): void;
}

export class ProgressTicker {
  private readonly intervalMs: number;
  /** Waiting connections → when they last heard from us (start of the wait, or last PROGRESS). */
  private readonly waiting = new Map<Waiting, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(intervalMs: number) {
    this.intervalMs = intervalMs;
  }

  start(w: Waiting): void {
    this.waiting.set(w, performance.now());
    // Ticks at a quarter of the interval: the first PROGRESS comes 1 to 1.25 intervals in.
    this.timer ??= setInterval(() => this.tick(), Math.max(1, this.intervalMs / 4)).unref();
  }

  stop(w: Waiting): void {
    this.waiting.delete(w);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.waiting.clear();
  }

  private tick(): void {
    const now = performance.now();
    for (const [w, last] of this.waiting) {
      if (now - last < this.intervalMs) continue;
      this.waiting.set(w, now);
      w.progress();
    }
  }
}
