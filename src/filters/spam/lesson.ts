// One lesson ("this message is spam / ham") applied to a model in place: a gradient step of
// the training loss on the message's features, capped so that one lesson moves its own
// message's raw log-odds by at most MAX_LOGIT_CHANGE (a poisoning bound), and the message's
// features marked as known. Every source of lessons (user feedback, quarantine release,
// autolearn, `sluice learn`, the benchmark's online run) goes through here.
import type { FeatureSet } from "./features.ts";
import { update } from "./learner.ts";
import type { SpamModel } from "./model.ts";

/** Step size and ham weight of a lesson (chosen on the corpus time split, like DEFAULT_LEARN). */
export const LESSON_RATE = 10;
export const LESSON_HAM_WEIGHT = 4;
/** At most this change of the lesson's own raw log-odds (calibrated: times the slope, about 1/3). */
export const MAX_LOGIT_CHANGE = 8;

export interface LessonFeatures {
  /** Feature indices (the model's buckets) and their full hashes (familiarity). */
  indices: Uint32Array;
  hashes: Uint32Array;
  /** The message's own features (normalisation); later ones are earlier filters' symbols. */
  norm: number;
}

export function lessonFeatures(fs: FeatureSet, contentCount: number): LessonFeatures {
  return { indices: fs.snapshot(), hashes: fs.snapshotHashes(), norm: contentCount };
}

/** Applies one lesson; returns the change of the message's raw log-odds. */
export function applyLesson(model: SpamModel, f: LessonFeatures, label: "spam" | "ham"): number {
  // Known first: the step is taken on the score the model will give this message from now on.
  model.markKnown(f.hashes, f.hashes.length);
  const dz = update(
    model,
    { indices: f.indices, spam: label === "spam", norm: f.norm },
    LESSON_RATE,
    LESSON_HAM_WEIGHT,
    MAX_LOGIT_CHANGE,
  );
  const lessons = (model.meta.lessons ??= { spam: 0, ham: 0 });
  lessons[label]++;
  return dz;
}
