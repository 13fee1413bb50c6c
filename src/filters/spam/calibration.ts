// Turns a model's raw log-odds into honest ones: a line (Platt scaling) fitted on out-of-fold
// scores of the training set itself — a model scoring the mail it was trained on is always
// too sure — plus the familiarity band under which the verdict leans to "unsure".
// Used when a model is built (train.ts, scripts/build-spam-model.ts), never at scoring time.
import { learn, type Example, type LearnOptions } from "./learner.ts";
import type { Calibration, SpamModel } from "./model.ts";

/**
 * Where the familiarity bands come from: the number of known features that only 1 % of the
 * training site's own held-out mail falls under (full trust from there, no opinion at half of
 * it: a short message gives the model little to go on). The share of known features gets a
 * wider band — full trust down to half of its 1st percentile, no opinion at a quarter — because
 * a long message full of logs, code or quoted text is legitimately mostly unknown words while its
 * known ones still speak (on the dev split the tighter band cost recall at 0.1 % FPR: 93.0 % →
 * 92.5 %). Mail of the training site is at 0.85-0.95; mail in a language never seen falls far
 * lower than a quarter.
 */
export const FAMILIAR_QUANTILE = 0.01;
export const UNFAMILIAR_SHARE = 0.5;
/** The share band sits this much lower than the count band (see above). */
export const SHARE_BAND = 0.5;

export interface CalibrationFit extends Calibration {
  /** Out-of-fold scores the line was fitted on (for reports). */
  folds: number;
}

/** Fits the calibration line on `folds`-fold out-of-fold raw log-odds of `examples`. */
export function fitCalibration(examples: readonly Example[], opts: LearnOptions, folds = 4): CalibrationFit {
  const raw: { z: number; y: number }[] = [];
  const familiarity: number[] = [];
  const knownCounts: number[] = [];
  for (let f = 0; f < folds; f++) {
    const train = examples.filter((_, i) => i % folds !== f);
    const model = learn(train, opts);
    examples.forEach((e, i) => {
      if (i % folds !== f) return;
      raw.push({ z: rawLogit(model, e), y: e.spam ? 1 : 0 });
      if (!e.hashes) return;
      const n = e.norm ?? e.hashes.length;
      const known = model.knownCount(e.hashes, n);
      familiarity.push(n ? known / n : 0);
      knownCounts.push(known);
    });
  }
  const { slope, intercept } = plattFit(raw);
  const familiar = quantile(familiarity, FAMILIAR_QUANTILE) * SHARE_BAND;
  const enoughKnown = Math.round(quantile(knownCounts, FAMILIAR_QUANTILE));
  return {
    slope,
    intercept,
    unfamiliar: familiar * UNFAMILIAR_SHARE,
    familiar,
    fewKnown: Math.round(enoughKnown * UNFAMILIAR_SHARE),
    enoughKnown,
    folds,
  };
}

function quantile(xs: number[], q: number): number {
  if (!xs.length) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length * q)]!;
}

/** The held-out message's raw log-odds as scoring computes them (known features only). */
function rawLogit(model: SpamModel, e: Example): number {
  const norm = e.norm ?? e.indices.length;
  return e.hashes
    ? model.knownLogit(e.indices, e.hashes, e.indices.length, norm)
    : model.logit(e.indices, e.indices.length, norm);
}

/**
 * Logistic regression of y on z (two parameters) by Newton's method with step halving, with
 * Platt's target smoothing so that separable scores still give a finite slope.
 */
export function plattFit(data: readonly { z: number; y: number }[]): { slope: number; intercept: number } {
  const pos = data.filter((d) => d.y === 1).length;
  const neg = data.length - pos;
  const hi = (pos + 1) / (pos + 2);
  const lo = 1 / (neg + 2);
  const loss = (a: number, b: number) => {
    let l = 0;
    for (const d of data) {
      const t = d.y === 1 ? hi : lo;
      const u = a * d.z + b;
      // t·log(1+e^-u) + (1-t)·log(1+e^u), computed without overflow.
      l += t * softplus(-u) + (1 - t) * softplus(u);
    }
    return l;
  };
  let a = 1;
  let b = 0;
  let cur = loss(a, b);
  for (let it = 0; it < 200; it++) {
    let g0 = 0;
    let g1 = 0;
    let h00 = 1e-6;
    let h01 = 0;
    let h11 = 1e-6;
    for (const d of data) {
      const t = d.y === 1 ? hi : lo;
      const u = a * d.z + b;
      const p = u >= 0 ? 1 / (1 + Math.exp(-u)) : Math.exp(u) / (1 + Math.exp(u));
      const r = p - t;
      const w = p * (1 - p);
      g0 += r * d.z;
      g1 += r;
      h00 += w * d.z * d.z;
      h01 += w * d.z;
      h11 += w;
    }
    const det = h00 * h11 - h01 * h01;
    let da = det > 0 ? (h11 * g0 - h01 * g1) / det : g0 * 1e-3;
    let db = det > 0 ? (h00 * g1 - h01 * g0) / det : g1 * 1e-3;
    let step = 1;
    let next = loss(a - da, b - db);
    while (next > cur && step > 1e-8) {
      step /= 2;
      da /= 2;
      db /= 2;
      next = loss(a - da, b - db);
    }
    if (next > cur) break;
    a -= da;
    b -= db;
    const done = cur - next < 1e-12 * Math.max(1, cur);
    cur = next;
    if (done) break;
  }
  return { slope: a, intercept: b };
}

function softplus(x: number): number {
  return x > 30 ? x : x < -30 ? Math.exp(x) : Math.log1p(Math.exp(x));
}
