// Encodes milter replies to the MTA (SMFIR_*) into framed packets, including the OPTNEG
// reply with its macro lists. Pure: which reply is allowed when is decided by the caller.
import { Rep } from "./constants.ts";
import { frame } from "./framing.ts";

export type Reply =
  | { type: "continue" | "accept" | "discard" | "reject" | "tempfail" | "skip" | "progress" }
  | { type: "conn_fail" | "shutdown" }
  | { type: "replycode"; code: number; enhanced: string; text: string }
  | { type: "addheader"; name: string; value: string }
  | { type: "insheader"; index: number; name: string; value: string }
  | { type: "chgheader"; index: number; name: string; value: string }
  | { type: "addrcpt"; rcpt: string }
  | { type: "addrcpt_par"; rcpt: string; args: string[] }
  | { type: "delrcpt"; rcpt: string }
  | { type: "replbody"; chunk: Buffer }
  | { type: "chgfrom"; sender: string; args: string[] }
  | { type: "quarantine"; reason: string }
  | {
      type: "optneg";
      version: number;
      actions: number;
      protocol: number;
      /** SMFIM_* stage → space-separated macro names (needs SMFIF_SETSYMLIST). */
      macros?: ReadonlyMap<number, string>;
    };

const SIMPLE = {
  continue: Rep.CONTINUE,
  accept: Rep.ACCEPT,
  discard: Rep.DISCARD,
  reject: Rep.REJECT,
  tempfail: Rep.TEMPFAIL,
  skip: Rep.SKIP,
  progress: Rep.PROGRESS,
  conn_fail: Rep.CONN_FAIL,
  shutdown: Rep.SHUTDOWN,
} as const;

// Replies without data are the same bytes every time: framed once.
const SIMPLE_FRAMES = Object.fromEntries(
  Object.entries(SIMPLE).map(([type, code]) => [type, frame(code)]),
) as Record<keyof typeof SIMPLE, Buffer>;

/** The final actions: exactly one ends the answer to a command. */
export function isFinal(r: Reply): boolean {
  return r.type !== "progress" && !MODIFICATIONS.has(r.type);
}

export const MODIFICATIONS: ReadonlySet<Reply["type"]> = new Set([
  "addheader",
  "insheader",
  "chgheader",
  "addrcpt",
  "addrcpt_par",
  "delrcpt",
  "replbody",
  "chgfrom",
  "quarantine",
]);

// A NUL inside a string would end it early on the MTA side and shift every later field.
function str(s: string): Buffer {
  return Buffer.from(s.replaceAll("\0", "") + "\0", "utf8");
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

const MAX_REPLY_LINES = 32;

/**
 * "550 5.7.1 text" or the multi-line form of smfi_setmlreply. `%` is doubled because the MTA
 * passes the text through a printf-style formatter.
 */
export function formatReplyCode(code: number, enhanced: string, text: string): string {
  if (!Number.isInteger(code) || code < 400 || code > 599) {
    throw new RangeError(`reply code ${code} is not 4xx/5xx`);
  }
  if (enhanced && !/^[45]\.\d{1,3}\.\d{1,3}$/.test(enhanced)) {
    throw new RangeError(`enhanced status code ${JSON.stringify(enhanced)} is malformed`);
  }
  if (enhanced && enhanced[0] !== String(code)[0]) {
    throw new RangeError(`enhanced status code ${enhanced} does not match ${code}`);
  }
  const lines = text.split(/\r?\n|\r/).map((l) => l.replaceAll("%", "%%"));
  if (lines.length > MAX_REPLY_LINES) throw new RangeError(`reply has more than ${MAX_REPLY_LINES} lines`);
  const prefix = (sep: string) => `${code}${sep}${enhanced ? enhanced + " " : ""}`;
  return lines.map((l, i) => prefix(i === lines.length - 1 ? " " : "-") + l).join("\r\n");
}

/** Encode one reply into a framed packet. */
export function encodeReply(r: Reply): Buffer {
  switch (r.type) {
    case "continue":
    case "accept":
    case "discard":
    case "reject":
    case "tempfail":
    case "skip":
    case "progress":
    case "conn_fail":
    case "shutdown":
      return SIMPLE_FRAMES[r.type];
    case "replycode":
      return frame(Rep.REPLYCODE, str(formatReplyCode(r.code, r.enhanced, r.text)));
    case "addheader":
      return frame(Rep.ADDHEADER, Buffer.concat([str(r.name), str(r.value)]));
    case "insheader":
      return frame(Rep.INSHEADER, Buffer.concat([u32(r.index), str(r.name), str(r.value)]));
    case "chgheader":
      return frame(Rep.CHGHEADER, Buffer.concat([u32(r.index), str(r.name), str(r.value)]));
    case "addrcpt":
      return frame(Rep.ADDRCPT, str(r.rcpt));
    case "addrcpt_par":
      return frame(Rep.ADDRCPT_PAR, Buffer.concat([str(r.rcpt), ...r.args.map(str)]));
    case "delrcpt":
      return frame(Rep.DELRCPT, str(r.rcpt));
    case "replbody":
      return frame(Rep.REPLBODY, r.chunk);
    case "chgfrom":
      return frame(Rep.CHGFROM, Buffer.concat([str(r.sender), ...r.args.map(str)]));
    case "quarantine":
      return frame(Rep.QUARANTINE, str(r.reason));
    case "optneg": {
      const parts = [u32(r.version), u32(r.actions), u32(r.protocol)];
      for (const [stage, names] of r.macros ?? []) parts.push(u32(stage), str(names));
      return frame(Rep.OPTNEG, Buffer.concat(parts));
    }
  }
}

/** Split a replacement body into REPLBODY packets no larger than the negotiated data size. */
export function replaceBody(body: Buffer, maxData: number): Reply[] {
  const out: Reply[] = [];
  for (let i = 0; i < body.length; i += maxData)
    out.push({ type: "replbody", chunk: body.subarray(i, i + maxData) });
  return out;
}
