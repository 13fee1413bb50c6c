// From per-recipient verdicts to what a front end does with the message: one reply for the
// client and groups of recipients sharing one copy. SMTP has one reply after DATA, so
// mixed outcomes are resolved here, the same way for the proxy and the milter.
import { replyFor } from "./actions.ts";
import type { DataResult, Disposition, OutcomeGroup } from "./session.ts";
import type { SmtpReply } from "../message/types.ts";
import type { Verdict } from "./verdict.ts";
import { reply } from "../message/replies.ts";

export function buildOutcome(verdicts: Verdict[], ref: string): Omit<DataResult, "verdicts"> {
  if (verdicts.length === 0) {
    return { reply: reply("noValidRecipients", { ref }), groups: [] };
  }
  // Any tempfail defers the whole message: nothing is delivered yet, so a retry loses nothing.
  const temp = verdicts.find((v) => v.action.type === "tempfail");
  if (temp) return { reply: replyFor(temp.action, ref), groups: [] };
  const rejects = verdicts.filter((v) => v.action.type === "reject");
  if (rejects.length === verdicts.length) return { reply: replyFor(rejects[0]!.action, ref), groups: [] };

  const groups = new Map<string, OutcomeGroup>();
  for (const v of verdicts) {
    let disposition: Disposition;
    let reason = v.action.reason ?? null;
    switch (v.action.type) {
      case "reject":
        // Mixed with accepted recipients: one DATA reply cannot refuse only some of them, and a
        // bounce would be backscatter. The refused copy is quarantined instead (see README).
        disposition = "quarantine";
        reason = `rejected for this recipient (mixed outcome): ${reason ?? "policy"}`;
        break;
      case "quarantine":
        disposition = "quarantine";
        break;
      case "hold":
        disposition = "hold";
        break;
      case "discard":
        disposition = "discard";
        break;
      default:
        disposition = "deliver";
    }
    const redirect = v.action.type === "redirect" ? (v.action.address ?? null) : null;
    const holdMinutes = v.action.type === "hold" ? (v.action.minutes ?? 5) : null;
    const key = JSON.stringify([
      disposition,
      redirect,
      holdMinutes,
      v.edits,
      v.bcc,
      disposition === "deliver" ? null : reason,
    ]);
    const g = groups.get(key);
    if (g) g.recipients.push(v.address);
    else {
      groups.set(key, {
        recipients: [v.address],
        disposition,
        edits: v.edits,
        bcc: v.bcc,
        redirect,
        reason,
        holdMinutes,
      });
    }
  }
  return { reply: null, groups: [...groups.values()] };
}

export const ACCEPTED_REPLY = (ref: string): SmtpReply => ({
  code: 250,
  enhanced: "2.0.0",
  text: `Ok: queued as ${ref}`,
});
