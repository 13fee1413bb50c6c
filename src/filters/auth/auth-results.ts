// Authentication-Results (RFC 8601): the field Sluice adds for one recipient's copy, and the
// edits that first remove incoming fields claiming our authserv-id (forgeries or replays).
// Not the checks themselves (verify.ts) and not what the results mean for policy (outcome.ts).
import type { HeaderEdit } from "../../message/types.ts";
import type { HeaderList } from "../../message/headers.ts";
import { fieldValueFolded, unfold } from "../../message/headers.ts";
import type { AuthOutcome } from "./verify.ts";

/** The authserv-id a field claims: its first token, CFWS comments removed, lower-cased. */
export function authservIdOf(value: string): string {
  const v = unfold(value)
    .replace(/\((?:[^()\\]|\\.)*\)/g, " ")
    .trim();
  const semi = v.indexOf(";");
  const head = (semi === -1 ? v : v.slice(0, semi)).trim();
  return (head.split(/\s+/)[0] ?? "").replace(/^"|"$/g, "").toLowerCase();
}

/** RFC 8601 "value": a token, or a quoted-string when it holds specials or spaces. */
function pvalue(v: string): string {
  return /^[!#$%&'*+\-./0-9=?A-Z^_`a-z{|}~@]+$/.test(v) ? v : `"${v.replace(/(["\\])/g, "\\$1")}"`;
}

function comment(text: string): string {
  const t = text
    .replace(/[()\\\r\n]/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return t ? ` (${t.slice(0, 200)})` : "";
}

/** The result clauses, one per method and identity, in a stable order. */
export function resultClauses(o: AuthOutcome, opts: { senderId: boolean }): string[] {
  const out: string[] = [];
  const mf = o.spfMailFrom;
  out.push(`spf=${mf.result}${comment(mf.comment)} smtp.mailfrom=${pvalue(mf.identity)}`);
  if (o.spfHelo) out.push(`spf=${o.spfHelo.result} smtp.helo=${pvalue(o.spfHelo.identity)}`);
  if (o.dkim.length === 0) out.push("dkim=none");
  for (const d of o.dkim) {
    const props = [
      `header.d=${pvalue(d.domain)}`,
      d.identity ? `header.i=${pvalue(d.identity)}` : "",
      `header.s=${pvalue(d.selector)}`,
      `header.a=${pvalue(d.algorithm)}`,
      d.b ? `header.b=${pvalue(d.b)}` : "",
    ].filter(Boolean);
    out.push(`dkim=${d.result}${comment(d.result === "pass" ? "" : d.comment)} ${props.join(" ")}`);
  }
  const arcNote =
    o.arc.result === "none" ? "" : `i=${o.arc.instance}${o.arc.comment ? ` ${o.arc.comment}` : ""}`;
  out.push(`arc=${o.arc.result}${comment(arcNote)}`);
  const dm = o.dmarc;
  const dmNote = dm.policy ? `p=${dm.policy}${dm.testing ? " t=y" : ""}` : dm.comment;
  out.push(
    `dmarc=${dm.result}${comment(dmNote)}${dm.fromDomain ? ` header.from=${pvalue(dm.fromDomain)}` : ""}`,
  );
  if (opts.senderId && o.senderId) {
    const s = o.senderId;
    const prop = s.pra && s.header ? ` header.${s.header.toLowerCase()}=${pvalue(s.pra)}` : "";
    out.push(`sender-id=${s.result}${comment(s.pra ? "" : s.comment)}${prop}`);
  }
  return out;
}

/** The field value (without the name): authserv-id, then one folded line per clause. */
export function authResultsValue(authservId: string, clauses: readonly string[]): string {
  return `${authservId};\r\n\t${clauses.join(";\r\n\t")}`;
}

/**
 * Edits for one copy: incoming Authentication-Results claiming our authserv-id are deleted one
 * by one (HeaderEdit `index`, 1-based among fields of that name, highest first so the lower
 * indexes stay valid), foreign ones stay where they are; ours is prepended.
 */
export function authResultsEdits(headers: HeaderList, authservId: string, value: string): HeaderEdit[] {
  const id = authservId.toLowerCase();
  const forged = headers
    .all("Authentication-Results")
    .map((f, i) => ({ index: i + 1, id: authservIdOf(fieldValueFolded(f)) }))
    .filter((f) => f.id === id)
    .map((f) => f.index)
    .reverse();
  return [
    ...forged.map((index): HeaderEdit => ({ op: "delete", name: "Authentication-Results", index })),
    { op: "add", name: "Authentication-Results", value, top: true },
  ];
}
