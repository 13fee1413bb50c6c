// Rspamd as an optional spam filter: /checkv2 with the envelope, returns the total as
// RSPAMD_SCORE, each symbol as RSPAMD_<NAME> (score 0), and maps Rspamd's reject/soft reject
// to actions when the policy allows it. Off by default; errors are thrown for on_error.
import { z } from "zod";
import type { Action, Filter } from "../../pipeline/types.ts";
import { parseFilterOptions } from "../options.ts";
import { rspamdCheck } from "./rspamd-client.ts";
import { reply } from "../../message/replies.ts";

const Options = z
  .object({
    url: z.string().url().default("http://127.0.0.1:11333"),
    timeout_ms: z.number().int().positive().default(20_000),
    max_bytes: z.number().int().positive().default(2_097_152),
    password: z.string().optional(),
    /** Follow Rspamd's own action (reject → reject, soft reject → tempfail) instead of only scoring. */
    use_action: z.boolean().default(false),
    score_factor: z.number().default(1),
  })
  .strict();
type Opts = z.infer<typeof Options>;

function mapAction(action: string): Action | undefined {
  if (action === "reject") {
    return {
      type: "reject",
      reply: reply("spamRejected"),
      reason: "rspamd: reject",
    };
  }
  if (action === "soft reject") {
    return {
      type: "tempfail",
      reply: reply("spamEngineDeferred"),
      reason: "rspamd: soft reject",
    };
  }
  return undefined;
}

export function rspamdFilter(): Filter {
  return {
    name: "rspamd",
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
          symbols: [{ name: "RSPAMD_SKIPPED_SIZE", score: 0, detail: `${ctx.tx.size} > ${o.max_bytes}` }],
        };
      }
      const env = ctx.envelope;
      const r = await rspamdCheck(
        o.url,
        await ctx.tx.spool.buffer(),
        {
          ip: env.client.address,
          helo: env.helo ?? undefined,
          from: env.mailFrom?.address,
          rcpt: ctx.recipients.map((x) => x.address),
          queueId: ctx.tx.id,
        },
        { timeoutMs: o.timeout_ms, signal: ctx.signal, password: o.password },
      );
      const action = o.use_action ? mapAction(r.action) : undefined;
      return {
        symbols: [
          {
            name: "RSPAMD_SCORE",
            score: Math.round(r.score * o.score_factor * 100) / 100,
            detail: `${r.score}/${r.requiredScore} ${r.action}`,
          },
          ...r.symbols.map((s) => ({ name: `RSPAMD_${s.name}`, score: 0, detail: `${s.score}` })),
        ],
        ...(action ? { action } : {}),
      };
    },
  };
}
