// Sender authentication of one message: SPF (MAIL FROM, HELO), DKIM, ARC, DMARC and optional
// Sender ID, evaluated with mailauth through an injected resolver, into plain result records.
// No policy here (no symbols, actions or headers): see outcome.ts and auth-results.ts.
// RFCs: 7208 (SPF), 6376 + 8463 (DKIM), 8617 (ARC), 7489 (DMARC), 4406/4407 (Sender ID).
import { isIP } from "node:net";
import type { Readable } from "node:stream";
import { arc as arcVerify, dkimVerify, dmarc as dmarcVerify } from "mailauth";
import type { ARCResult, DKIMVerifyResult } from "mailauth";
import type { MailauthResolver } from "./dns.ts";
import { checkSenderId, type SenderIdResult } from "./sender-id.ts";
import { checkSpf, type SpfOutcome } from "./spf.ts";
import type { HeaderList } from "../../message/headers.ts";

export type { SpfOutcome, SpfResult } from "./spf.ts";
export type DkimResult = "pass" | "fail" | "neutral" | "policy" | "temperror" | "permerror";

export interface DkimOutcome {
  result: DkimResult;
  domain: string;
  selector: string;
  algorithm: string;
  identity: string;
  /** First 8 characters of b= (RFC 6008 header.b), to tell signatures apart. */
  b: string;
  /** d= aligns with the From domain (relaxed). */
  aligned: boolean;
  comment: string;
}

export interface ArcHop {
  instance: number;
  sealer: string;
  /** dmarc= of this hop's ARC-Authentication-Results, if any. */
  dmarc: string | null;
}

export interface ArcOutcome {
  result: "pass" | "fail" | "none";
  /** Highest instance (0 when there is no chain). */
  instance: number;
  hops: ArcHop[];
  comment: string;
}

export interface DmarcOutcome {
  result: "pass" | "fail" | "none" | "temperror" | "permerror";
  /** RFC5322.From domain (empty when the message has none or several). */
  fromDomain: string;
  /**
   * Policy to apply on failure (mailauth's choice between p=, sp= and np=), already one level
   * weaker when the record asks for test mode (t=y, RFC 9989 4.7).
   */
  policy: "none" | "quarantine" | "reject" | null;
  /** t=y: the domain owner is testing its policy. (pct= is historic in RFC 9989: not sampled.) */
  testing: boolean;
  record: string | null;
  comment: string;
}

export interface AuthOutcome {
  spfMailFrom: SpfOutcome;
  spfHelo: SpfOutcome | null;
  dkim: DkimOutcome[];
  arc: ArcOutcome;
  dmarc: DmarcOutcome;
  senderId: SenderIdResult | null;
}

export interface VerifyInput {
  message: Readable | Buffer;
  headers: HeaderList;
  ip: string;
  helo: string | null;
  /** "" for the null sender. */
  mailFrom: string;
  /** Our host name, for SPF explanations and comments. */
  mta: string;
  resolver: MailauthResolver;
  senderId: boolean;
  spfHelo: boolean;
  minKeyBits: number;
  /** Verification time (tests of expiry). */
  now?: Date;
}

export async function verifyMessage(input: VerifyInput): Promise<AuthOutcome> {
  const resolver = input.resolver;
  const helo = input.helo && !isIP(input.helo.replace(/^\[|\]$/g, "")) ? input.helo : null;
  const dkimRaw = await dkimVerify(input.message, {
    resolver: resolver as never,
    minBitLength: input.minKeyBits,
    ...(input.now ? { curTime: input.now } : {}),
    ...(input.mailFrom ? { sender: input.mailFrom } : {}),
  });
  const [spfMailFrom, spfHelo, arcRaw, senderId] = await Promise.all([
    checkSpf({
      ip: input.ip,
      helo: input.helo ?? undefined,
      sender: input.mailFrom,
      mta: input.mta,
      resolver,
    }),
    input.spfHelo && helo
      ? checkSpf({ ip: input.ip, helo, sender: `postmaster@${helo}`, mta: input.mta, resolver }, helo)
      : Promise.resolve(null),
    verifyArc(dkimRaw, resolver, input.minKeyBits),
    input.senderId
      ? checkSenderId(input.headers, { ip: input.ip, helo: input.helo, mta: input.mta, resolver })
      : Promise.resolve(null),
  ]);
  const dkim = dkimOutcomes(dkimRaw);
  const dmarc = await checkDmarc(dkimRaw, spfMailFrom, dkim, arcRaw.raw, resolver);
  return { spfMailFrom, spfHelo, dkim, arc: arcRaw.outcome, dmarc, senderId };
}

function dkimOutcomes(raw: DKIMVerifyResult): DkimOutcome[] {
  return (raw.results ?? [])
    .filter((r) => r.signingDomain || r.status?.result !== "none")
    .map((r) => {
      const status = r.status as {
        result: string;
        comment?: string | false;
        aligned?: string | false;
        header?: { i?: string; s?: string; a?: string; b?: string };
      };
      let result: DkimResult;
      switch (status.result) {
        case "pass":
        case "fail":
        case "policy":
        case "temperror":
        case "permerror":
          result = status.result;
          break;
        case "temperr":
          result = "temperror";
          break;
        default:
          // mailauth says neutral for a body hash mismatch, a missing key or a malformed
          // signature: RFC 6376 calls the first a fail and the others permerror.
          result = /body hash/.test(String(status.comment)) ? "fail" : "permerror";
      }
      const rr = r as unknown as { signingDomain?: string; selector?: string; algo?: string };
      return {
        result,
        domain: String(rr.signingDomain ?? "").toLowerCase(),
        selector: String(rr.selector ?? status.header?.s ?? ""),
        algorithm: String(rr.algo ?? status.header?.a ?? ""),
        identity: String(status.header?.i ?? ""),
        b: String(status.header?.b ?? "").slice(0, 8),
        aligned: Boolean(status.aligned),
        comment: typeof status.comment === "string" ? status.comment : "",
      };
    });
}

interface ArcChainLink {
  i: number;
  "arc-seal"?: { parsed?: { d?: { value?: string } } };
  "arc-authentication-results"?: { parsed?: { dmarc?: { value?: string } } };
}

async function verifyArc(
  dkimRaw: DKIMVerifyResult,
  resolver: MailauthResolver,
  minKeyBits: number,
): Promise<{ raw: ARCResult; outcome: ArcOutcome }> {
  const data = (dkimRaw as { arc?: unknown }).arc ?? { chain: false };
  const chain = ((data as { chain?: ArcChainLink[] | false }).chain || []) as ArcChainLink[];
  // Read the hops before mailauth's arc(): it rewrites the newest hop's parsed
  // ARC-Authentication-Results in place (dmarc.value moves to dmarc.result).
  const hops = chain.map((link) => ({
    instance: Number(link.i),
    sealer: String(link["arc-seal"]?.parsed?.d?.value ?? "").toLowerCase(),
    dmarc: link["arc-authentication-results"]?.parsed?.dmarc?.value?.toLowerCase() ?? null,
  }));
  const raw = await arcVerify(data as never, { resolver: resolver as never, minBitLength: minKeyBits });
  const result = raw.status.result === "pass" ? "pass" : raw.status.result === "none" ? "none" : "fail";
  return {
    raw,
    outcome: {
      result,
      instance: typeof raw.i === "number" ? raw.i : hops.length,
      hops,
      comment: typeof raw.status.comment === "string" ? raw.status.comment : "",
    },
  };
}

async function checkDmarc(
  dkimRaw: DKIMVerifyResult,
  spf: SpfOutcome,
  dkim: DkimOutcome[],
  arcRaw: ARCResult,
  resolver: MailauthResolver,
): Promise<DmarcOutcome> {
  const from = dkimRaw.headerFrom ?? [];
  const none = (comment: string, fromDomain = ""): DmarcOutcome => ({
    result: "none",
    fromDomain,
    policy: null,
    testing: false,
    record: null,
    comment,
  });
  if (from.length === 0) return none("no From address");
  const domains = new Set(from.map((a) => a.split("@").pop()!.toLowerCase()));
  if (domains.size > 1) {
    // RFC 7489 6.6.1: several author domains cannot be evaluated as one.
    return { ...none("several From domains"), result: "permerror" };
  }
  const fromDomain = [...domains][0]!;
  const raw = await dmarcVerify({
    headerFrom: `x@${fromDomain}`,
    spfDomains: spf.result === "pass" ? [spf.domain] : [],
    dkimDomains: dkim.filter((d) => d.result === "pass").map((d) => ({ domain: d.domain })),
    arcResult: arcRaw,
    resolver: resolver as never,
  });
  if (!raw) return none("no From address", fromDomain);
  const r = raw as unknown as {
    status: { result: string; comment?: string };
    policy?: string;
    testMode?: boolean;
    rr?: string;
    error?: string;
  };
  if (r.status.result === "temperror")
    return { ...none(r.error ?? "DNS failure", fromDomain), result: "temperror" };
  if (r.status.result === "none") return none("no DMARC record", fromDomain);
  const policy = String(r.policy ?? "").toLowerCase();
  const known = policy === "none" || policy === "quarantine" || policy === "reject";
  if (!known) {
    // A record without a valid p= is no policy (RFC 7489 6.6.3), except that a valid sp=/rua
    // may still exist; mailauth has already chosen between p and sp.
    return { ...none(`invalid policy "${policy}"`, fromDomain), result: "permerror", record: r.rr ?? null };
  }
  // Alignment (relaxed or adkim=s/aspf=s, organisational domains by the RFC 9989 tree walk) is
  // mailauth's since version 5; 4.13 ignored strict alignment and we used to decide it here.
  return {
    result: r.status.result === "pass" ? "pass" : "fail",
    fromDomain,
    policy,
    testing: r.testMode === true,
    record: r.rr ?? null,
    comment: r.status.comment ?? "",
  };
}
