// Action strength and the default SMTP replies of final actions.
// The strongest explicit action wins (DESIGN.md, Verdict); modifiers add up instead.
import type { Action, ActionType } from "./types.ts";
import type { SmtpReply } from "../message/types.ts";
import { reply } from "../message/replies.ts";

/** Final dispositions, weakest first. add-header, tag-subject and bcc are modifiers. */
const STRENGTH: Record<ActionType, number> = {
  accept: 0,
  "add-header": 1,
  "tag-subject": 1,
  bcc: 1,
  redirect: 2,
  hold: 3,
  quarantine: 4,
  discard: 5,
  tempfail: 6,
  reject: 7,
};

export function isModifier(type: ActionType): boolean {
  return type === "add-header" || type === "tag-subject" || type === "bcc";
}

export function isFinal(type: ActionType): boolean {
  return type === "reject" || type === "tempfail" || type === "discard";
}

export function stronger(a: Action, b: Action): Action {
  return STRENGTH[b.type] > STRENGTH[a.type] ? b : a;
}

const DEFAULT_REPLY: Partial<Record<ActionType, SmtpReply>> = {
  reject: reply("rejected"),
  tempfail: reply("deferred"),
};

/** The reply for a reject or tempfail, carrying the message's reference id. */
export function replyFor(action: Action, ref: string): SmtpReply {
  const base = DEFAULT_REPLY[action.type] ?? DEFAULT_REPLY.reject!;
  const r = { ...base, ...action.reply };
  const text = r.text.includes(ref) ? r.text : `${r.text} [ref ${ref}]`;
  return { code: r.code, enhanced: r.enhanced, text };
}

export function formatReply(r: SmtpReply): string {
  return `${r.code} ${r.enhanced} ${r.text}`;
}
