// Users as the directory gives them and the effective policy of one recipient.
// Plain data shared by the directory implementations, the resolver and the pipeline.
import type { TenantConfig } from "../config/schema.ts";
import type { Thresholds, User } from "../message/types.ts";

export interface FilterSettings {
  enabled: boolean;
  /** Why the filter is off for this recipient (shown in the decision trace). */
  offReason: string | null;
  priority: number;
  timeoutMs: number;
  onError: "tempfail" | "accept" | "reject";
  options: Record<string, unknown>;
}

export interface RecipientPolicy {
  address: string;
  tenant: TenantConfig | null;
  user: User | null;
  language: "en" | "ja";
  splitMixed: "fanout" | "defer";
  thresholds: Thresholds;
  filters: Record<string, FilterSettings>;
  scores: Record<string, number>;
  lists: {
    whitelist: string[];
    blacklist: string[];
    maxEntries: number;
    blacklistAction: "reject" | "quarantine";
  };
  tag: { subjectPrefix: string; headers: boolean };
}
