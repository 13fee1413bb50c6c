// Builds one recipient's verdict from the results its policy allows: the strongest explicit
// action wins, else the score against the recipient's thresholds (tag / quarantine / reject).
import { isModifier, stronger } from "./actions.ts";
import type { RecipientPolicy } from "../policy/types.ts";
import type { Action } from "./types.ts";
import type { HeaderEdit, Notification, SymbolHit } from "../message/types.ts";
import type { TraceEntry } from "./trace.ts";

export interface ScoredSymbol extends SymbolHit {
  filter: string;
}

export interface RecipientState {
  address: string;
  params: Record<string, string | true>;
  policy: RecipientPolicy;
  symbols: ScoredSymbol[];
  actions: (Action & { filter: string })[];
  headers: HeaderEdit[];
  notify: Notification[];
  skipGroups: Map<string, string>;
  trace: TraceEntry[];
}

export interface Verdict {
  address: string;
  action: Action;
  score: number;
  symbols: SymbolHit[];
  edits: HeaderEdit[];
  bcc: string[];
  notify: Notification[];
  trace: TraceEntry[];
}

/** `subject` is the raw (unfolded) Subject value, for tagging; null when absent. */
export function decide(state: RecipientState, subject: string | null): Verdict {
  const p = state.policy;
  const symbols = state.symbols.map((s) => ({
    name: s.name,
    score: p.scores[s.name] ?? s.score,
    ...(s.detail !== undefined ? { detail: s.detail } : {}),
  }));
  const score = Math.round(symbols.reduce((a, s) => a + s.score, 0) * 100) / 100;
  const trace = [...state.trace];
  const edits = [...state.headers];
  const bcc: string[] = [];
  let action: Action = { type: "accept" };
  let decidedBy = "no action, score below thresholds";
  for (const a of state.actions) {
    if (a.type === "add-header" && a.header)
      edits.push({ op: "add", name: a.header.name, value: a.header.value });
    else if (a.type === "bcc" && a.address) bcc.push(a.address);
    else if (a.type === "tag-subject") edits.push(subjectTag(a.prefix ?? p.tag.subjectPrefix, subject));
    if (isModifier(a.type)) continue;
    const next = stronger(action, a);
    if (next !== action) {
      action = next;
      decidedBy = `${a.filter}: ${a.type}${a.reason ? ` (${a.reason})` : ""}`;
    }
  }
  if (action.type === "accept") {
    const t = p.thresholds;
    if (t.reject !== null && score >= t.reject) {
      action = { type: "reject", reason: `score ${score} >= reject threshold ${t.reject}` };
      decidedBy = action.reason!;
    } else if (t.quarantine !== null && score >= t.quarantine) {
      action = { type: "quarantine", reason: `score ${score} >= quarantine threshold ${t.quarantine}` };
      decidedBy = action.reason!;
    } else if (t.tag !== null && score >= t.tag) {
      decidedBy = `score ${score} >= tag threshold ${t.tag}`;
      if (p.tag.headers) {
        edits.push({ op: "add", name: "X-Spam-Flag", value: "YES" });
        edits.push({ op: "add", name: "X-Spam-Score", value: score.toFixed(2) });
      }
      if (p.tag.subjectPrefix) edits.push(subjectTag(p.tag.subjectPrefix, subject));
    }
  }
  trace.push({ decision: action.type, by: decidedBy });
  return { address: state.address, action, score, symbols, edits, bcc, notify: state.notify, trace };
}

function subjectTag(prefix: string, subject: string | null): HeaderEdit {
  const cur = subject ?? "";
  return { op: "set", name: "Subject", value: cur.startsWith(prefix.trim()) ? cur : `${prefix}${cur}` };
}
