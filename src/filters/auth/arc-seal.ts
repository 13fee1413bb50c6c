// ARC sealing (RFC 8617 section 5.1) of mail Sluice forwards: one ARC set (ARC-Seal,
// ARC-Message-Signature, ARC-Authentication-Results) over the message as received plus our
// verification verdict, signed with mailauth. Not the verdict itself (verify.ts) and not
// which messages are sealed (auth-filter.ts).
import type { Readable } from "node:stream";
import { sealMessage } from "mailauth";
import { parseHeaderSection, unfold, fieldValueFolded, type HeaderList } from "../../message/headers.ts";
import { loadDkimKey } from "./keygen.ts";

/** RFC 8617 4.2.1: instances run from 1 to 50. */
export const ARC_MAX_INSTANCE = 50;

export interface SealRequest {
  domain: string;
  selector: string;
  privateKeyPem: string;
  /** The Authentication-Results value to record: "authserv-id; method=result ...". */
  authResults: string;
  /** Chain validation result of the chain as received (none: no chain). */
  cv: "none" | "pass" | "fail";
  /** Header fields covered by the ARC-Message-Signature (those present are signed). */
  headers: readonly string[];
  signTime?: Date;
}

export interface ArcSet {
  instance: number;
  /** Fields to prepend, top first: ARC-Seal, ARC-Message-Signature, ARC-Authentication-Results. */
  fields: { name: string; value: string }[];
}

export class ArcSealError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ArcSealError";
  }
}

/** The highest ARC-Seal instance of a message and its cv (null: no seal). */
export function lastSeal(headers: HeaderList): { instance: number; cv: string } | null {
  let best: { instance: number; cv: string } | null = null;
  for (const f of headers.all("ARC-Seal")) {
    const v = unfold(fieldValueFolded(f));
    const i = /(?:^|;)\s*i\s*=\s*(\d+)\s*(?:;|$)/i.exec(v);
    if (!i) continue;
    const cv = /(?:^|;)\s*cv\s*=\s*([a-z]+)\s*(?:;|$)/i.exec(v)?.[1]?.toLowerCase() ?? "";
    const instance = Number(i[1]);
    if (!best || instance > best.instance) best = { instance, cv };
  }
  return best;
}

/**
 * Seal one message. Null when RFC 8617 5.1.2 forbids another set: the newest seal already
 * says cv=fail, or the chain has reached instance 50.
 */
export async function arcSeal(
  message: Buffer | Readable,
  headers: HeaderList,
  req: SealRequest,
): Promise<ArcSet | null> {
  const last = lastSeal(headers);
  if (last && last.cv === "fail") return null;
  const instance = (last?.instance ?? 0) + 1;
  if (instance > ARC_MAX_INSTANCE) return null;
  // With no chain the only honest cv is none; with one, "none" would be a lie (5.1.2 step 2).
  const cv = last ? (req.cv === "none" ? "fail" : req.cv) : "none";
  const key = loadDkimKey(req.privateKeyPem, `ARC key ${req.selector}._domainkey.${req.domain}`);
  // RFC 8617 4.1.3 defines rsa-sha256 only (RFC 8463 added Ed25519 to DKIM, not to ARC).
  if (key.algorithm !== "rsa-sha256")
    throw new ArcSealError(
      `ARC key ${req.selector}._domainkey.${req.domain} is ${key.algorithm}: ARC seals with rsa-sha256 only (RFC 8617)`,
    );
  const out = await sealMessage(message, {
    signingDomain: req.domain,
    selector: req.selector,
    privateKey: req.privateKeyPem,
    algorithm: key.algorithm,
    authResults: req.authResults.replace(/\r?\n(?![ \t])/g, "\r\n "),
    cv,
    signTime: req.signTime ?? new Date(),
    // mailauth's signer reads the list as a colon-separated string (an array is ignored).
    headerList: req.headers.join(":") as unknown as string[],
  } as never);
  const fields = parseHeaderSection(out).fields.map((f) => ({
    name: f.name,
    value: fieldValueFolded(f).replace(/^[ \t]+/, ""),
  }));
  const names = fields.map((f) => f.name.toLowerCase()).join(",");
  if (names !== "arc-seal,arc-message-signature,arc-authentication-results")
    throw new ArcSealError(`sealing as ${req.domain}: unexpected output (${names || "nothing"})`);
  const got = /(?:^|;)\s*i\s*=\s*(\d+)/.exec(unfold(fields[0]!.value))?.[1];
  if (Number(got) !== instance)
    throw new ArcSealError(`sealing as ${req.domain}: instance ${got}, expected ${instance}`);
  return { instance, fields };
}
