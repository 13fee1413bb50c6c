// The built-in spam classifier as a pipeline filter: tokenizes the shared MIME view and the
// earlier filters' symbols, scores with the shared model, and returns BAYES_SPAM / BAYES_HAM /
// BAYES_UNSURE (a continuous score, proportional to the calibrated log-odds) plus the named
// signals (signals.ts). It never edits the message and never learns here (lessons.ts does).
import { fileURLToPath } from "node:url";
import { z } from "zod";
import type { Filter, FilterResult, SymbolHit } from "../../pipeline/types.ts";
import { parseFilterOptions } from "../options.ts";
import { FeatureSet } from "./features.ts";
import { inputFromTransaction } from "./message-input.ts";
import { ModelCache } from "./model-cache.ts";
import type { Score } from "./model.ts";
import { SIGNAL_SCORES, type Signal } from "./signals.ts";
import { tokenize } from "./tokenizer.ts";

export const DEFAULT_MODEL_PATH = fileURLToPath(
  new URL("../../../models/spam-default.model.gz", import.meta.url),
);

const Options = z
  .object({
    /** Model file; the shipped default when absent. */
    model: z.string().min(1).default(DEFAULT_MODEL_PATH),
    /** Characters of decoded text tokenized; 0 = what the model was trained with. */
    max_chars: z.number().int().min(0).default(0),
    /**
     * Score per unit of calibrated log-odds (natural log) above 0, and below 0. With the default
     * thresholds (tag 5, quarantine 10, reject 20) the classifier alone tags from p = 0.73,
     * quarantines from p = 0.88 and rejects from p = 0.98. Ham evidence counts less: words are
     * cheap to add to spam, so they must not cancel a virus, a failed DMARC or a blacklist.
     */
    spam_scale: z.number().min(0).default(5),
    ham_scale: z.number().min(0).default(1),
    /** The score never goes beyond ±max_score (far past any threshold: no plateau where one sits). */
    max_score: z.number().positive().default(50),
    /** Symbol name: BAYES_SPAM from this log-odds up, BAYES_HAM from ham_log_odds down, else BAYES_UNSURE. */
    spam_log_odds: z.number().min(0).default(2),
    ham_log_odds: z.number().max(0).default(-2),
    /** Also return the named signals (HTML_HIDDEN_TEXT, URL_IP_HOST …) as scored symbols. */
    signals: z.boolean().default(true),
  })
  .strict();
export type ClassifierOptions = z.infer<typeof Options>;

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

/** Signed, fixed-digit log-odds: ranks without ties where p would print 1.0000. */
export function formatScore(s: Score): string {
  const sign = s.logOdds >= 0 ? "+" : "";
  return `log-odds=${sign}${s.logOdds.toFixed(6)} p=${s.p.toPrecision(8)} familiarity=${s.familiarity.toFixed(3)}`;
}

/** Calibrated log-odds to the classifier's symbol: continuous and monotonic up to ±max_score. */
export function symbolsFor(s: Score, o: ClassifierOptions): SymbolHit[] {
  const x = s.logOdds;
  const raw = x >= 0 ? x * o.spam_scale : x * o.ham_scale;
  const score = round4(Math.max(-o.max_score, Math.min(o.max_score, raw)));
  const name = x >= o.spam_log_odds ? "BAYES_SPAM" : x <= o.ham_log_odds ? "BAYES_HAM" : "BAYES_UNSURE";
  return [{ name, score, detail: formatScore(s) }];
}

export function signalSymbols(signals: readonly Signal[]): SymbolHit[] {
  return signals.map((g) => ({
    name: g.name,
    score: SIGNAL_SCORES[g.name],
    ...(g.detail !== undefined ? { detail: g.detail.slice(0, 120) } : {}),
  }));
}

export function classifierFilter(cache = new ModelCache()): Filter {
  // One feature buffer per filter instance: tokenize + score is synchronous, so scans never interleave in it.
  const buffers = new Map<number, FeatureSet>();
  return {
    name: "spam-classifier",
    group: "spam",
    stages: ["data"],
    priority: 60,
    enabledByDefault: true,
    parseOptions: (raw) => parseFilterOptions(Options, raw),
    async check(ctx): Promise<FilterResult> {
      const o = ctx.options as ClassifierOptions;
      if (!ctx.tx) return {};
      const model = await cache.get(o.model);
      const input = await inputFromTransaction(ctx.tx, ctx.earlier);
      ctx.signal.throwIfAborted();
      let fs = buffers.get(model.meta.bits);
      if (!fs) buffers.set(model.meta.bits, (fs = new FeatureSet(model.meta.bits)));
      fs.reset();
      const t = tokenize(input, { maxChars: o.max_chars || model.meta.maxChars }, fs);
      const score = model.score(fs, t.contentCount);
      return { symbols: [...symbolsFor(score, o), ...(o.signals ? signalSymbols(t.signals) : [])] };
    },
  };
}
