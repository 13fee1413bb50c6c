// The spam filters of this build: the built-in classifier (on by default) and the external
// engines SpamAssassin and Rspamd (off by default). Registry wiring is done in filters/index.ts.
import type { Filter } from "../../pipeline/types.ts";
import { classifierFilter } from "./classifier.ts";
import type { SpamLearning } from "./learning.ts";
import { ModelCache } from "./model-cache.ts";
import { rspamdFilter } from "./rspamd.ts";
import { spamassassinFilter } from "./spamassassin.ts";

export { trainModel, type TrainOptions, type TrainResult } from "./train.ts";
export { SpamModel } from "./model.ts";
export { DEFAULT_MODEL_PATH } from "./classifier.ts";
export { SpamEngineError, SpamModelError, TrainingInputError } from "./errors.ts";

export { SpamLearning } from "./learning.ts";

/**
 * One call = one model cache shared by every scan of this filter set. `learning` reaches the
 * node's lesson service once the store is open (null: score with the model file only).
 */
export function spamFilters(learning: () => SpamLearning | null = () => null): Filter[] {
  return [classifierFilter(new ModelCache(), learning), spamassassinFilter(), rspamdFilter()];
}
