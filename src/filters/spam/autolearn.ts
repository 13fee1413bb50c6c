// Autolearn (as SpamAssassin's bayes_auto_learn and Rspamd's autolearn): a message whose class is
// backed by evidence independent of the classifier becomes a lesson. Spam: a strong score from
// the other filters and signals, or a blacklist hit. Ham: mail from a correspondent the user has
// written to whose DMARC passed (aligned), or mail the sender sent authenticated (outbound).
// Guards: the classifier must not already be sure (no lesson to learn), class balance and a rate
// per tenant per hour, and never against the user's own feedback about that sender.
import { z } from "zod";
import type { SpamLearningStore } from "../../store/types.ts";

export const AutolearnOptions = z
  .object({
    enabled: z.boolean().default(false),
    /** Spam when the non-classifier score (other filters + signals) reaches this. */
    spam_score: z.number().default(12),
    /** Lessons per tenant per hour (both classes). */
    per_hour: z.number().int().min(1).default(200),
    /** A class may get at most this many times the other's lessons (per tenant, last day), plus `slack`. */
    balance: z.number().min(1).default(3),
    slack: z.number().int().min(0).default(20),
    /** No lesson when the classifier already agrees with at least these log-odds. */
    sure_log_odds: z.number().min(0).default(6),
  })
  .strict();
export type AutolearnConfig = z.infer<typeof AutolearnOptions>;

export interface Evidence {
  /** Sum of the other filters' scores and the signals' (never the classifier's own). */
  otherScore: number;
  /** Symbols of earlier filters. */
  earlier: readonly { name: string }[];
  /** The sender authenticated (submission): outbound mail of our own users. */
  authenticated: boolean;
  /** The recipient has written to the sender before (message log). */
  correspondent: () => Promise<boolean>;
  /** The classifier's calibrated log-odds for the message. */
  logOdds: number;
}

export type AutolearnDecision = { learn: "spam" | "ham"; why: string } | { learn: null; why: string };

/** Which class the evidence backs, before the guards (pure but for the correspondent lookup). */
export async function autolearnClass(e: Evidence, o: AutolearnConfig): Promise<AutolearnDecision> {
  const names = new Set(e.earlier.map((s) => s.name));
  let label: "spam" | "ham" | null = null;
  let why = "no independent evidence";
  if (names.has("USER_BLACKLIST")) [label, why] = ["spam", "blacklisted sender"];
  else if (e.otherScore >= o.spam_score)
    [label, why] = ["spam", `other filters scored ${e.otherScore.toFixed(1)}`];
  else if (e.authenticated && e.otherScore < o.spam_score / 2) [label, why] = ["ham", "authenticated sender"];
  else if (names.has("DMARC_PASS") && e.otherScore < o.spam_score / 2 && (await e.correspondent()))
    [label, why] = ["ham", "DMARC-aligned correspondent"];
  if (label === null) return { learn: null, why };
  if (label === "spam" ? e.logOdds >= o.sure_log_odds : e.logOdds <= -o.sure_log_odds)
    return { learn: null, why: "classifier already sure" };
  return { learn: label, why };
}

/** The guards against the store: rate, balance, and the user's own feedback about the sender. */
export async function autolearnAllowed(
  store: SpamLearningStore,
  o: AutolearnConfig,
  q: {
    scope: string;
    tenant: string | null;
    label: "spam" | "ham";
    recipient: string;
    sender: string | null;
  },
  now = new Date(),
): Promise<{ ok: boolean; why: string }> {
  const tenant = q.tenant ?? undefined;
  const hour = new Date(now.getTime() - 3_600_000);
  if (
    (await store.countSpamLessons({ scope: q.scope, tenant, sources: ["autolearn"], since: hour })) >=
    o.per_hour
  )
    return { ok: false, why: "autolearn rate reached" };
  const day = new Date(now.getTime() - 86_400_000);
  const count = (label: "spam" | "ham") =>
    store.countSpamLessons({ scope: q.scope, tenant, sources: ["autolearn"], label, since: day });
  const [mine, other] = [await count(q.label), await count(q.label === "spam" ? "ham" : "spam")];
  if (mine >= other * o.balance + o.slack) return { ok: false, why: `class balance (${mine} vs ${other})` };
  if (q.sender) {
    // The user said otherwise about this sender (release, report, `sluice learn`): their word wins.
    const opposite = q.label === "spam" ? "ham" : "spam";
    const said = await store.countSpamLessons({
      recipient: q.recipient.toLowerCase(),
      sender: q.sender.toLowerCase(),
      label: opposite,
      sources: ["feedback", "release", "cli"],
    });
    if (said > 0) return { ok: false, why: `the user marked this sender ${opposite}` };
  }
  return { ok: true, why: "ok" };
}
