// One SPF check (RFC 7208) of one identity — MAIL FROM, HELO, or Sender ID's PRA — with
// mailauth, normalised to a small record. Not the choice of identity or what a result means.
import { spf as spfVerify } from "mailauth";
import type { MailauthResolver } from "./dns.ts";

export type SpfResult = "pass" | "fail" | "softfail" | "neutral" | "none" | "temperror" | "permerror";

const SPF_RESULTS = new Set(["pass", "fail", "softfail", "neutral", "none", "temperror", "permerror"]);

export interface SpfOutcome {
  result: SpfResult;
  /** The identity checked: the MAIL FROM address (postmaster@helo for the null sender), or the HELO name. */
  identity: string;
  domain: string;
  comment: string;
}

export interface SpfArgs {
  ip: string;
  helo?: string;
  sender: string;
  mta: string;
  resolver: MailauthResolver;
}

/** One SPF check; `heloIdentity` set: the HELO identity is being checked (RFC 7208 2.3). */
export async function checkSpf(args: SpfArgs, heloIdentity?: string): Promise<SpfOutcome> {
  const r = await spfVerify({
    ip: args.ip,
    sender: args.sender,
    mta: args.mta,
    resolver: args.resolver as never,
    ...(args.helo ? { helo: args.helo } : {}),
  });
  const raw = String(r.status?.result ?? "temperror");
  const result = (SPF_RESULTS.has(raw) ? raw : raw === "temperr" ? "temperror" : "permerror") as SpfResult;
  const identity = heloIdentity ?? (args.sender || `postmaster@${args.helo ?? ""}`);
  return {
    result,
    identity,
    domain: String((r as { domain?: string }).domain ?? identity.split("@").pop()).toLowerCase(),
    comment: typeof r.status?.comment === "string" ? r.status.comment : "",
  };
}
