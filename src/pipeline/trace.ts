// The decision trace of one recipient: which filters ran, which were skipped and why,
// and which symbols or action decided the outcome. Kept in the message log.

export type TraceEntry =
  | {
      filter: string;
      stage: string;
      ran: true;
      ms: number;
      symbols: string[];
      action?: string;
      error?: string;
      /** The filter's own account (e.g. "zen.example answered 127.0.0.2 → RBL_ZEN +4"). */
      note?: string;
      /** The priority the filters of this stage were ordered by (lower first). */
      priority?: number;
    }
  | { filter: string; stage: string; ran: false; reason: string }
  | { decision: string; by: string };
