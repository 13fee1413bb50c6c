// Sender ID (RFC 4406/4407, historic): the Purported Responsible Address picked from the
// headers, checked against the domain's `spf2.0/pra` record, falling back to `v=spf1`.
// The SPF evaluation itself is mailauth's: we only choose the identity and the record.
import type { HeaderList } from "../../message/headers.ts";
import { fieldValueFolded, unfold } from "../../message/headers.ts";
import type { MailauthResolver } from "./dns.ts";
import { checkSpf, type SpfResult } from "./spf.ts";

export interface SenderIdResult {
  result: SpfResult;
  /** The PRA, or null when none could be determined (permerror). */
  pra: string | null;
  /** Header the PRA came from. */
  header: string | null;
  comment: string;
}

function mailboxes(value: string): string[] {
  // Display names may contain anything; addresses are what sits in <> or bare addr-specs.
  const stripped = value.replace(/\([^()]*\)/g, " ").replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const angled = [...stripped.matchAll(/<([^<>\s]+@[^<>\s]+)>/g)].map((m) => m[1]!);
  if (angled.length) return angled;
  return [...stripped.matchAll(/([^\s<>,;:"]+@[^\s<>,;:"]+)/g)].map((m) => m[1]!);
}

/** RFC 4407 section 2: Resent-Sender, Resent-From, Sender, then From. */
export function selectPra(headers: HeaderList): { pra: string | null; header: string | null; why?: string } {
  const fields = headers.fields.filter((f) => !f.malformed);
  const value = (i: number) => unfold(fieldValueFolded(fields[i]!)).trim();
  const name = (i: number) => fields[i]!.name.toLowerCase();
  const firstNonEmpty = (n: string) => fields.findIndex((_, i) => name(i) === n && value(i) !== "");
  const pick = (i: number, header: string) => {
    const boxes = mailboxes(value(i));
    if (boxes.length !== 1) return { pra: null, header, why: `${header} has ${boxes.length} mailboxes` };
    return { pra: boxes[0]!.toLowerCase(), header };
  };
  const rs = firstNonEmpty("resent-sender");
  const rf = firstNonEmpty("resent-from");
  if (rs !== -1) {
    // Step 2: a Resent-Sender belongs to the first resent block only if no Received or
    // Return-Path separates it from the first Resent-From.
    const lo = Math.min(rs, rf === -1 ? rs : rf);
    const hi = Math.max(rs, rf === -1 ? rs : rf);
    let separated = false;
    for (let i = lo + 1; i < hi; i++)
      if (name(i) === "received" || name(i) === "return-path") separated = true;
    if (!separated || rf === -1 || rs < rf) return pick(rs, "Resent-Sender");
  }
  if (rf !== -1) return pick(rf, "Resent-From");
  const senders = fields.map((_, i) => i).filter((i) => name(i) === "sender" && value(i) !== "");
  if (senders.length > 1) return { pra: null, header: "Sender", why: "several Sender fields" };
  if (senders.length === 1) return pick(senders[0]!, "Sender");
  const froms = fields.map((_, i) => i).filter((i) => name(i) === "from" && value(i) !== "");
  if (froms.length !== 1) return { pra: null, header: "From", why: `${froms.length} From fields` };
  return pick(froms[0]!, "From");
}

/**
 * A resolver that answers TXT queries as a Sender ID checker reads them: an `spf2.0/...`
 * record whose scope includes pra wins and is presented as v=spf1; otherwise v=spf1 records
 * stand (RFC 4406 3.4). Every other query passes through.
 */
export function praResolver(base: MailauthResolver): MailauthResolver {
  return async (name, rrtype) => {
    const answer = await base(name, rrtype);
    if (rrtype.toUpperCase() !== "TXT") return answer;
    const records = (answer as string[][]).map((parts) => parts.join(""));
    const pra = records
      .map((r) => /^spf2\.0\/([a-z,]+)(\s|$)(.*)$/i.exec(r.trim()))
      .filter((m): m is RegExpExecArray => !!m && m[1]!.toLowerCase().split(",").includes("pra"));
    if (pra.length) return pra.map((m) => [`v=spf1 ${m[3]!}`.trim()]);
    return records.filter((r) => !/^spf2\.0\//i.test(r.trim())).map((r) => [r]);
  };
}

export async function checkSenderId(
  headers: HeaderList,
  opts: { ip: string; helo: string | null; mta: string; resolver: MailauthResolver },
): Promise<SenderIdResult> {
  const sel = selectPra(headers);
  if (!sel.pra) return { result: "permerror", pra: null, header: sel.header, comment: sel.why ?? "no PRA" };
  const r = await checkSpf({
    ip: opts.ip,
    sender: sel.pra,
    mta: opts.mta,
    resolver: praResolver(opts.resolver),
    ...(opts.helo ? { helo: opts.helo } : {}),
  });
  return { result: r.result, pra: sel.pra, header: sel.header, comment: r.comment };
}
