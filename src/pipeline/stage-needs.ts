// Which SMTP stages the pipeline may answer with a refusal, for one configuration. A front end
// that can skip waiting for an answer (the milter's SMFIP_NR_*) asks this; the Session itself
// is not changed by it and still receives every stage's data.
import type { Config, PolicySpec } from "../config/schema.ts";
import type { Filter, Stage } from "./types.ts";

/** Stages before end of message. The data stage is always answered (end of message). */
export type EnvelopeStage = Exclude<Stage, "data">;

export interface StageNeeds {
  /**
   * Stages whose command the pipeline may refuse: some filter enabled in some policy layer runs
   * there, or the Session refuses there on its own. Every other envelope stage is passed to the
   * Session all the same (its data is needed: client address, HELO name, envelope) but is
   * always answered "go on", so a front end need not wait for it.
   */
  answer: ReadonlySet<EnvelopeStage>;
  /** Filters enabled in at least one policy layer, i.e. that may run on this node. */
  filters: readonly string[];
}

/** Every envelope stage answered: for front ends that do not know the configuration. */
export const ANSWER_ALL: StageNeeds = {
  answer: new Set<EnvelopeStage>(["connect", "helo", "mail", "rcpt"]),
  filters: [],
};

/**
 * The union over every policy a recipient can get on this node: the global policy, this node's
 * role, and each tenant's policy on top, with PolicyResolver's rule (the last layer that says
 * `enabled` wins, else the filter's default). Per-user settings from the directory can only
 * switch the spam group off or back on within what these layers enable, never enable a filter
 * that all of them disable, so they cannot add a stage.
 */
export function stageNeeds(filters: readonly Filter[], config: Config): StageNeeds {
  const role = config.roles[config.node.role]?.policy;
  const base: PolicySpec[] = [config.policy, ...(role ? [role] : [])];
  const layerSets = [base, ...config.tenants.map((t) => (t.policy ? [...base, t.policy] : base))];
  const enabled = filters.filter((f) => layerSets.some((layers) => enabledIn(f, layers)));
  const answer = new Set<EnvelopeStage>();
  for (const f of enabled) for (const s of f.stages) if (s !== "data") answer.add(s);
  // split_mixed_policies: defer answers 452 4.5.3 at RCPT for a recipient whose policy differs.
  if (config.tenants.some((t) => t.split_mixed_policies === "defer")) answer.add("rcpt");
  return { answer, filters: enabled.map((f) => f.name) };
}

function enabledIn(f: Filter, layers: readonly PolicySpec[]): boolean {
  let on = f.enabledByDefault;
  for (const l of layers) {
    const v = l.filters?.[f.name]?.enabled;
    if (v !== undefined) on = v;
  }
  return on;
}
