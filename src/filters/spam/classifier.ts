// The built-in spam classifier as a pipeline filter: tokenizes the shared MIME view and the
// earlier filters' symbols, scores with the live model (the model file, or the store's revision
// with the site's lessons: learning.ts), and returns BAYES_SPAM / BAYES_HAM / BAYES_UNSURE (a
// continuous score, proportional to the calibrated log-odds) plus the named signals
// (signals.ts). It never edits the message; with autolearn on it hands a lesson to learning.ts
// in the background (autolearn.ts decides), never delaying the verdict.
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import type { Filter, FilterContext, FilterResult } from "../../pipeline/types.ts";
import type { SymbolHit } from "../../message/types.ts";
import { parseFilterOptions } from "../options.ts";
import { AutolearnOptions, autolearnAllowed, autolearnClass } from "./autolearn.ts";
import { FeatureSet } from "./features.ts";
import type { TokenizerInput } from "./input.ts";
import type { SpamLearning } from "./learning.ts";
import { inputFromTransaction } from "./message-input.ts";
import { ModelCache } from "./model-cache.ts";
import type { Score, SpamModel } from "./model.ts";
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
    /**
     * Recognise the GTUBE test pattern (as SpamAssassin and Rspamd do): symbol GTUBE, score
     * GTUBE_SCORE (policy `scores:` may change it), no model score and never a lesson.
     */
    gtube: z.boolean().default(true),
    /**
     * Which learned model scores (with a store): "shared" — one for every tenant, "tenant" — the
     * recipient's tenant's own, "off" — the model file only, and lessons are refused.
     */
    learning: z.enum(["shared", "tenant", "off"]).default("shared"),
    autolearn: AutolearnOptions.default(AutolearnOptions.parse({})),
    /** How often lessons are compacted into a new model revision (global policy; serve). */
    compact_minutes: z.number().int().min(1).max(10_080).default(60),
  })
  .strict();
export type ClassifierOptions = z.infer<typeof Options>;

/**
 * The Generic Test for Unsolicited Bulk Email: a message whose text holds this line is spam by
 * definition, so an admin can check the whole spam path (tag, quarantine, reject, notices)
 * without real spam. SpamAssassin scores it 1000 and Rspamd rejects it; so do we.
 */
export const GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";
export const GTUBE_SCORE = 1000;

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

/** Signed, fixed-digit log-odds: ranks without ties where p would print 1.0000. */
export function formatScore(s: Score): string {
  const sign = s.logOdds >= 0 ? "+" : "";
  return `log-odds=${sign}${s.logOdds.toFixed(6)} p=${s.p.toPrecision(8)} familiarity=${s.familiarity.toFixed(3)}`;
}

/** Calibrated log-odds to the classifier's symbol: continuous and monotonic up to ±max_score. */
export function symbolsFor(
  s: Score,
  o: Pick<ClassifierOptions, "spam_scale" | "ham_scale" | "max_score" | "spam_log_odds" | "ham_log_odds">,
): SymbolHit[] {
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

/** The model scope of a recipient's policy: "" (shared) or its tenant id; null when learning is off. */
export function learningScope(o: Pick<ClassifierOptions, "learning">, tenant: string | null): string | null {
  if (o.learning === "off") return null;
  return o.learning === "tenant" && tenant ? tenant : "";
}

export function classifierFilter(
  cache = new ModelCache(),
  learning: () => SpamLearning | null = () => null,
): Filter {
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
      const tenant = ctx.recipients[0]?.policy.tenant?.id ?? null;
      const scope = learningScope(o, tenant);
      const service = scope === null ? null : learning();
      const base = () => cache.get(o.model);
      const input = await inputFromTransaction(ctx.tx, ctx.earlier);
      ctx.signal.throwIfAborted();
      // A test message teaches the model nothing: no model fetched, no score, no autolearn.
      if (o.gtube && (input.text.includes(GTUBE) || input.html?.includes(GTUBE)))
        return { symbols: [{ name: "GTUBE", score: GTUBE_SCORE, detail: "GTUBE test pattern in the text" }] };
      const model: SpamModel = service ? await service.model(scope!, base) : await base();
      let fs = buffers.get(model.meta.bits);
      if (!fs) buffers.set(model.meta.bits, (fs = new FeatureSet(model.meta.bits)));
      fs.reset();
      const t = tokenize(input, { maxChars: o.max_chars || model.meta.maxChars }, fs);
      const score = model.score(fs, t.contentCount);
      const signals = signalSymbols(t.signals);
      if (service && o.autolearn.enabled)
        autolearn(ctx, o, service, { scope: scope!, tenant, input, score, signals, base }).catch(
          (err: Error) => ctx.log.warn({ err: err.message }, "spam autolearn failed"),
        );
      return { symbols: [...symbolsFor(score, o), ...(o.signals ? signals : [])] };
    },
  };
}

/** Decides and, if the guards allow, keeps an autolearn lesson (after the verdict, in the background). */
async function autolearn(
  ctx: FilterContext,
  o: ClassifierOptions,
  service: SpamLearning,
  m: {
    scope: string;
    tenant: string | null;
    input: TokenizerInput;
    score: Score;
    signals: SymbolHit[];
    base: () => Promise<SpamModel>;
  },
): Promise<void> {
  const recipient = ctx.recipients[0]?.address;
  const tx = ctx.tx;
  if (!recipient || !tx?.spool) return;
  const fromHeader = /[^\s<>,;"()]+@[^\s<>,;"()]+/.exec(
    m.input.headers.find((h) => h.name.toLowerCase() === "from")?.value ?? "",
  )?.[0];
  const sender = (fromHeader ?? ctx.envelope.mailFrom?.address ?? "").toLowerCase() || null;
  const scores = (xs: readonly SymbolHit[]) =>
    xs.reduce((a, x) => a + (ctx.recipients[0]!.policy.scores[x.name] ?? x.score), 0);
  const decision = await autolearnClass(
    {
      otherScore: scores(ctx.earlier) + scores(m.signals),
      earlier: ctx.earlier,
      authenticated: ctx.envelope.auth !== null,
      correspondent: () => (sender ? ctx.history.sentBefore(recipient, sender) : Promise.resolve(false)),
      logOdds: m.score.logOdds,
    },
    o.autolearn,
  );
  if (!decision.learn) return;
  const allowed = await autolearnAllowed(service.store, o.autolearn, {
    scope: m.scope,
    tenant: m.tenant,
    label: decision.learn,
    recipient,
    sender,
  });
  if (!allowed.ok) {
    ctx.log.debug({ label: decision.learn, why: allowed.why }, "spam autolearn skipped");
    return;
  }
  const hash = createHash("sha256")
    .update(await tx.spool.buffer())
    .digest("hex");
  const outcome = await service.learn(
    {
      message: m.input,
      hash,
      label: decision.learn,
      source: "autolearn",
      actor: null,
      recipient,
      sender,
      tenant: m.tenant,
      scope: m.scope,
    },
    m.base,
  );
  ctx.log.info({ label: decision.learn, why: decision.why, outcome }, "spam autolearn");
}
