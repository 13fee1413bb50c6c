// What authentication results mean for one recipient: symbols with default scores (tenants
// override scores in policy.scores) and the DMARC action under the tenant's options, with the
// trusted-forwarder and trusted-ARC-sealer overrides. Pure: no DNS, no message access.
import { BlockList, isIP } from "node:net";
import type { Action } from "../../pipeline/types.ts";
import type { SymbolHit } from "../../message/types.ts";
import type { Envelope } from "../../message/envelope.ts";
import type { AuthOptions } from "./options.ts";
import type { AuthOutcome } from "./verify.ts";

/** Every symbol the filter can emit, with its default score. */
export const AUTH_SYMBOLS: Readonly<Record<string, number>> = {
  SPF_PASS: -0.2,
  SPF_FAIL: 2.0,
  SPF_SOFTFAIL: 0.5,
  SPF_NEUTRAL: 0,
  SPF_NONE: 0,
  SPF_TEMPERROR: 0,
  SPF_PERMERROR: 0.5,
  SPF_HELO_PASS: 0,
  SPF_HELO_FAIL: 0.5,
  SPF_HELO_SOFTFAIL: 0.1,
  SPF_HELO_NEUTRAL: 0,
  SPF_HELO_NONE: 0,
  SPF_HELO_TEMPERROR: 0,
  SPF_HELO_PERMERROR: 0,
  DKIM_VALID: -0.2,
  DKIM_INVALID: 1.0,
  DKIM_NONE: 0,
  DKIM_TEMPERROR: 0,
  DMARC_PASS: -0.5,
  DMARC_POLICY_REJECT: 4.0,
  DMARC_POLICY_QUARANTINE: 2.0,
  DMARC_POLICY_NONE: 0.1,
  DMARC_POLICY_TESTING: 0,
  DMARC_NONE: 0,
  DMARC_TEMPERROR: 0,
  DMARC_PERMERROR: 0,
  DMARC_OVERRIDE_FORWARDER: 0,
  DMARC_OVERRIDE_ARC: 0,
  ARC_VALID: -0.1,
  ARC_INVALID: 0.5,
  ARC_NONE: 0,
  ARC_SEALED: 0,
  ARC_SEAL_SKIPPED: 0,
  ARC_SEAL_FAILED: 0,
  SENDERID_PASS: 0,
  SENDERID_FAIL: 1.0,
  SENDERID_SOFTFAIL: 0.3,
  SENDERID_NEUTRAL: 0,
  SENDERID_NONE: 0,
  SENDERID_TEMPERROR: 0,
  SENDERID_PERMERROR: 0.2,
};

function sym(name: string, detail?: string): SymbolHit {
  const score = AUTH_SYMBOLS[name];
  if (score === undefined) throw new Error(`undeclared auth symbol ${name}`);
  return detail ? { name, score, detail } : { name, score };
}

/** Symbols that do not depend on the tenant (SPF, DKIM, ARC, Sender ID, DMARC result). */
export function resultSymbols(o: AuthOutcome, senderId: boolean): SymbolHit[] {
  const out: SymbolHit[] = [];
  out.push(sym(`SPF_${o.spfMailFrom.result.toUpperCase()}`, o.spfMailFrom.identity));
  if (o.spfHelo) out.push(sym(`SPF_HELO_${o.spfHelo.result.toUpperCase()}`, o.spfHelo.identity));
  const pass = o.dkim.filter((d) => d.result === "pass");
  const temp = o.dkim.filter((d) => d.result === "temperror");
  const bad = o.dkim.filter((d) => d.result !== "pass" && d.result !== "temperror");
  if (o.dkim.length === 0) out.push(sym("DKIM_NONE"));
  if (pass.length) out.push(sym("DKIM_VALID", pass.map((d) => `${d.domain}/${d.selector}`).join(" ")));
  if (bad.length)
    out.push(sym("DKIM_INVALID", bad.map((d) => `${d.domain}/${d.selector}: ${d.result}`).join(" ")));
  if (temp.length) out.push(sym("DKIM_TEMPERROR", temp.map((d) => `${d.domain}/${d.selector}`).join(" ")));
  out.push(sym(o.arc.result === "pass" ? "ARC_VALID" : o.arc.result === "fail" ? "ARC_INVALID" : "ARC_NONE"));
  if (senderId && o.senderId)
    out.push(sym(`SENDERID_${o.senderId.result.toUpperCase()}`, o.senderId.pra ?? ""));
  const dm = o.dmarc;
  if (dm.result === "pass") out.push(sym("DMARC_PASS", dm.fromDomain));
  else if (dm.result === "none") out.push(sym("DMARC_NONE", dm.fromDomain || dm.comment));
  else if (dm.result === "temperror") out.push(sym("DMARC_TEMPERROR", dm.fromDomain));
  else if (dm.result === "permerror") out.push(sym("DMARC_PERMERROR", dm.comment));
  return out;
}

export interface DmarcDecision {
  symbols: SymbolHit[];
  action?: Action;
}

/**
 * A DMARC failure under one tenant's options. RFC 9989 made pct= historic: every failing message
 * gets the policy; a record in test mode (t=y) has already been given the next weaker one.
 */
export function dmarcDecision(
  o: AuthOutcome,
  opts: AuthOptions,
  envelope: Pick<Envelope, "client">,
): DmarcDecision {
  const dm = o.dmarc;
  if (dm.result !== "fail" || !dm.policy) return { symbols: [] };
  const policy = dm.policy;
  const symbols: SymbolHit[] = [];
  if (dm.testing) symbols.push(sym("DMARC_POLICY_TESTING", "t=y"));
  const name =
    policy === "reject"
      ? "DMARC_POLICY_REJECT"
      : policy === "quarantine"
        ? "DMARC_POLICY_QUARANTINE"
        : "DMARC_POLICY_NONE";
  symbols.push(sym(name, dm.fromDomain));
  if (policy === "none") return { symbols };
  const forwarder = trustedForwarder(opts.trusted_forwarders, envelope.client);
  if (forwarder) {
    symbols.push(sym("DMARC_OVERRIDE_FORWARDER", forwarder));
    return { symbols };
  }
  const sealer = trustedArcSealer(o, opts.trusted_arc_sealers);
  if (sealer) {
    symbols.push(sym("DMARC_OVERRIDE_ARC", sealer));
    return { symbols };
  }
  const reason = `DMARC ${policy} policy of ${dm.fromDomain}`;
  const mode = policy === "reject" ? opts.dmarc_reject_action : opts.dmarc_quarantine_action;
  if (mode === "reject") {
    return {
      symbols,
      action: {
        type: "reject",
        reply: {
          code: 550,
          enhanced: "5.7.1",
          text: `Message rejected: the domain ${dm.fromDomain} does not authorize this sender (DMARC)`,
        },
        reason,
      },
    };
  }
  if (mode === "quarantine") return { symbols, action: { type: "quarantine", reason } };
  return { symbols, action: { type: "tag-subject", reason } };
}

/** The trusted_forwarders entry the client matches, or null. */
export function trustedForwarder(entries: readonly string[], client: Envelope["client"]): string | null {
  const ip = client.address.replace(/^::ffff:(?=\d+\.)/i, "");
  const family = isIP(ip);
  const host = client.name?.toLowerCase().replace(/\.$/, "") ?? "";
  for (const e of entries) {
    const [net, bits] = e.split("/");
    const netFamily = isIP(net!);
    if (netFamily) {
      if (!family || netFamily !== family) continue;
      const list = new BlockList();
      const type = family === 4 ? "ipv4" : "ipv6";
      if (bits !== undefined) list.addSubnet(net!, Number(bits), type);
      else list.addAddress(net!, type);
      if (list.check(ip, type)) return e;
    } else if (host) {
      const name = e.toLowerCase();
      if (name.startsWith(".") ? host.endsWith(name) : host === name) return e;
    }
  }
  return null;
}

/**
 * A valid ARC chain whose newest seal is by a trusted sealer, and whose trusted hops recorded
 * dmarc=pass when they received the message: the failure is blamed on the forwarding.
 */
export function trustedArcSealer(o: AuthOutcome, trusted: readonly string[]): string | null {
  if (o.arc.result !== "pass" || trusted.length === 0 || o.arc.hops.length === 0) return null;
  const set = new Set(trusted.map((t) => t.toLowerCase()));
  const newest = o.arc.hops[o.arc.hops.length - 1]!;
  if (!set.has(newest.sealer)) return null;
  const vouching = o.arc.hops.find((h) => set.has(h.sealer) && h.dmarc === "pass");
  return vouching ? vouching.sealer : null;
}
