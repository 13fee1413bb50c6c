// SpamAssassin (spamd) as an optional spam filter: sends the message with REPORT, returns the
// total as SPAMASSASSIN_SCORE and each hit rule as SA_<RULE> (score 0: the total already counts).
// Off by default; errors and timeouts are thrown for the policy's on_error.
import { z } from "zod";
import type { Filter } from "../../pipeline/types.ts";
import { parseFilterOptions } from "../options.ts";
import { spamdCheck } from "./spamc-client.ts";

const Options = z
  .object({
    host: z.string().default("127.0.0.1"),
    port: z.number().int().min(1).max(65535).default(783),
    timeout_ms: z.number().int().positive().default(30_000),
    /** Larger messages are not sent (symbol SPAMASSASSIN_SKIPPED_SIZE). */
    max_bytes: z.number().int().positive().default(1_048_576),
    /** spamd user (per-user Bayes and preferences on the spamd side). */
    user: z.string().optional(),
    /** Multiplies spamd's total before it enters Sluice's score. */
    score_factor: z.number().default(1),
  })
  .strict();
type Opts = z.infer<typeof Options>;

export function spamassassinFilter(): Filter {
  return {
    name: "spamassassin",
    group: "spam",
    stages: ["data"],
    priority: 70,
    enabledByDefault: false,
    parseOptions: (raw) => parseFilterOptions(Options, raw),
    async check(ctx) {
      const o = ctx.options as Opts;
      if (!ctx.tx?.spool) return {};
      if (ctx.tx.size > o.max_bytes) {
        return {
          symbols: [
            { name: "SPAMASSASSIN_SKIPPED_SIZE", score: 0, detail: `${ctx.tx.size} > ${o.max_bytes}` },
          ],
        };
      }
      const message = await ctx.tx.spool.buffer();
      const r = await spamdCheck({ host: o.host, port: o.port }, message, {
        timeoutMs: o.timeout_ms,
        user: o.user,
        signal: ctx.signal,
      });
      return {
        symbols: [
          {
            name: "SPAMASSASSIN_SCORE",
            score: Math.round(r.score * o.score_factor * 100) / 100,
            detail: `${r.score}/${r.threshold}${r.spam ? " spam" : ""}`,
          },
          ...r.rules.map((rule) => ({ name: `SA_${rule.name}`, score: 0, detail: `${rule.score}` })),
        ],
      };
    },
  };
}
