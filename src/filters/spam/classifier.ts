// The built-in spam classifier as a pipeline filter: tokenizes the shared MIME view and the
// earlier filters' symbols, scores with the shared model, and returns BAYES_SPAM / BAYES_HAM.
// It never edits the message and never learns here (learning is train.ts / learner.ts).
import { fileURLToPath } from "node:url";
import { z } from "zod";
import type { Filter, FilterResult } from "../../pipeline/types.ts";
import { parseFilterOptions } from "../options.ts";
import { FeatureSet } from "./features.ts";
import { inputFromTransaction } from "./message-input.ts";
import { ModelCache } from "./model-cache.ts";
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
    /** BAYES_SPAM from this probability on; its score grows to spam_score at spam_full. */
    spam_probability: z.number().gt(0.5).lt(1).default(0.9),
    spam_full: z.number().gt(0.5).lt(1).default(0.999),
    spam_score: z.number().default(12),
    /** BAYES_HAM at or below this probability, down to ham_score at ham_full. */
    ham_probability: z.number().gt(0).lt(0.5).default(0.1),
    ham_full: z.number().gt(0).lt(0.5).default(0.001),
    ham_score: z.number().default(-3),
  })
  .strict()
  .refine((o) => o.spam_full >= o.spam_probability && o.ham_full <= o.ham_probability, {
    message: "spam_full must be >= spam_probability and ham_full <= ham_probability",
  });
export type ClassifierOptions = z.infer<typeof Options>;

const logit = (p: number) => Math.log(p / (1 - p));
const round2 = (x: number) => Math.round(x * 100) / 100;

/** Probability to symbols: half the score at the threshold, all of it at the "full" probability. */
export function symbolsFor(p: number, o: ClassifierOptions): NonNullable<FilterResult["symbols"]> {
  const detail = `p=${p.toFixed(4)}`;
  const clamp = (x: number) => Math.max(0, Math.min(1, x));
  const lp = logit(Math.min(Math.max(p, 1e-9), 1 - 1e-9));
  if (p >= o.spam_probability) {
    const span = logit(o.spam_full) - logit(o.spam_probability);
    const f = span > 0 ? clamp((lp - logit(o.spam_probability)) / span) : 1;
    return [{ name: "BAYES_SPAM", score: round2(o.spam_score * (0.5 + 0.5 * f)), detail }];
  }
  if (p <= o.ham_probability) {
    const span = logit(o.ham_probability) - logit(o.ham_full);
    const f = span > 0 ? clamp((logit(o.ham_probability) - lp) / span) : 1;
    return [{ name: "BAYES_HAM", score: round2(o.ham_score * (0.5 + 0.5 * f)), detail }];
  }
  return [{ name: "BAYES_UNSURE", score: 0, detail }];
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
    async check(ctx) {
      const o = ctx.options as ClassifierOptions;
      if (!ctx.tx) return {};
      const model = await cache.get(o.model);
      const input = await inputFromTransaction(ctx.tx, ctx.earlier);
      ctx.signal.throwIfAborted();
      let fs = buffers.get(model.meta.bits);
      if (!fs) buffers.set(model.meta.bits, (fs = new FeatureSet(model.meta.bits)));
      fs.reset();
      tokenize(input, { maxChars: o.max_chars || model.meta.maxChars }, fs);
      const p = model.probability(fs.indices, fs.count);
      return { symbols: symbolsFor(p, o) };
    },
  };
}
