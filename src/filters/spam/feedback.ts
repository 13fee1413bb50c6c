// Users' judgements ("release and learn as ham", "report as spam", "not spam", `sluice learn`)
// as lessons for the model the recipient's policy scores with: the scope comes from the
// classifier's options (shared or per-tenant), the lesson goes through learning.ts (kept in the
// store, applied incrementally, never written into the model file). Callers authenticate `actor`.
import { parseHeaderSection } from "../../message/headers.ts";
import type { SpamLessonSource } from "../../store/types.ts";
import { learningScope, type ClassifierOptions } from "./classifier.ts";
import type { LessonOutcome, SpamLearning } from "./learning.ts";
import { ModelCache } from "./model-cache.ts";

export type FeedbackOutcome = LessonOutcome | "no-classifier";

/** Model files for lessons given outside a scan (the filter has its own cache). */
const files = new ModelCache();

export interface FeedbackRequest {
  message: Buffer;
  label: "spam" | "ham";
  source: SpamLessonSource;
  actor: string;
  /** Whose mail it is (their policy names the model; autolearn respects their word). */
  recipient: string;
}

/** One lesson under a recipient's classifier options (`options` of their spam-classifier policy). */
export async function learnForRecipient(
  learning: SpamLearning | null,
  policy: { enabled: boolean; options: Record<string, unknown> } | undefined,
  tenant: string | null,
  req: FeedbackRequest,
): Promise<FeedbackOutcome> {
  const o = policy?.options as Pick<ClassifierOptions, "model" | "learning"> | undefined;
  if (!learning || !policy?.enabled || !o?.model) return "no-classifier";
  const scope = learningScope(o, tenant);
  if (scope === null) return "disabled";
  return learning.learn(
    {
      message: req.message,
      label: req.label,
      source: req.source,
      actor: req.actor,
      recipient: req.recipient,
      sender: senderOf(req.message),
      tenant,
      scope,
    },
    () => files.get(o.model),
  );
}

/** The From address of a raw message (who "this sender" is for autolearn's guard). */
export function senderOf(message: Buffer): string | null {
  const end = message.indexOf("\n\n") !== -1 ? message.indexOf("\n\n") + 1 : message.indexOf("\r\n\r\n") + 2;
  const headers = parseHeaderSection(end > 1 ? message.subarray(0, end) : message);
  const from = headers.get("From") ?? headers.get("Return-Path") ?? "";
  return /[^\s<>,;"()]+@[^\s<>,;"()]+/.exec(from)?.[0]?.toLowerCase() ?? null;
}
