// A client for SpamAssassin's spamd (spamc protocol 1.5 over TCP): REPORT/SYMBOLS to check a
// message, TELL to learn. One connection per request, with a timeout and abort signal.
// Not a filter (spamassassin.ts) and no TLS or Unix sockets.
import { connect } from "node:net";
import { SpamEngineError } from "./errors.ts";

export interface SpamdAddress {
  host: string;
  port: number;
}

export interface SpamdReply {
  code: number;
  status: string;
  headers: Record<string, string>;
  body: string;
}

export interface SpamdCheck {
  spam: boolean;
  score: number;
  threshold: number;
  /** Rules that hit, with the score each contributed (from REPORT). */
  rules: { name: string; score: number; description: string }[];
}

export async function spamdRequest(
  addr: SpamdAddress,
  method: "CHECK" | "SYMBOLS" | "REPORT" | "TELL" | "PING",
  message: Buffer | null,
  headers: Record<string, string>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<SpamdReply> {
  const head = [`${method} SPAMC/1.5`];
  for (const [k, v] of Object.entries(headers)) head.push(`${k}: ${v}`);
  if (message) head.push(`Content-length: ${message.length}`);
  const req = Buffer.concat([
    Buffer.from(head.join("\r\n") + "\r\n\r\n", "latin1"),
    message ?? Buffer.alloc(0),
  ]);
  const raw = await new Promise<Buffer>((resolve, reject) => {
    const sock = connect({ host: addr.host, port: addr.port });
    const chunks: Buffer[] = [];
    const fail = (err: SpamEngineError) => {
      sock.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () => fail(new SpamEngineError("spamassassin", `no answer in ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onAbort = () => fail(new SpamEngineError("spamassassin", "aborted"));
    signal?.addEventListener("abort", onAbort, { once: true });
    sock.on("connect", () => {
      // Half-close after the request: spamd answers once it has read everything.
      sock.end(req);
    });
    sock.on("data", (c: Buffer) => chunks.push(c));
    sock.on("error", (err) =>
      fail(
        new SpamEngineError("spamassassin", `${addr.host}:${addr.port}: ${err.message}`, true, {
          cause: err,
        }),
      ),
    );
    sock.on("close", () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(Buffer.concat(chunks));
    });
  });
  return parseReply(raw);
}

export function parseReply(raw: Buffer): SpamdReply {
  const text = raw.toString("utf8");
  const sep = text.indexOf("\r\n\r\n");
  const headPart = sep === -1 ? text : text.slice(0, sep);
  const body = sep === -1 ? "" : text.slice(sep + 4);
  const [statusLine, ...lines] = headPart.split("\r\n");
  const m = /^SPAMD\/\d+\.\d+\s+(\d+)\s+(.*)$/.exec(statusLine ?? "");
  if (!m)
    throw new SpamEngineError(
      "spamassassin",
      `bad reply: ${JSON.stringify((statusLine ?? "").slice(0, 80))}`,
    );
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(":");
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const code = Number(m[1]);
  if (code !== 0) throw new SpamEngineError("spamassassin", `spamd error ${code} ${m[2]}`, code !== 64);
  return { code, status: m[2]!, headers, body };
}

/** "Spam: True ; 15.3 / 5.0" */
export function parseSpamHeader(v: string | undefined): { spam: boolean; score: number; threshold: number } {
  const m = /^(true|false|yes|no)\s*;\s*(-?[\d.]+)\s*\/\s*(-?[\d.]+)/i.exec(v ?? "");
  if (!m) throw new SpamEngineError("spamassassin", `no Spam header in reply (${JSON.stringify(v)})`);
  return { spam: /^(true|yes)$/i.test(m[1]!), score: Number(m[2]), threshold: Number(m[3]) };
}

/** The rule table of a REPORT body: " 3.5 BAYES_99   BODY: Bayes spam probability is 99 to 100%". */
export function parseReport(body: string): SpamdCheck["rules"] {
  const rules: SpamdCheck["rules"] = [];
  let last: SpamdCheck["rules"][number] | null = null;
  for (const line of body.split(/\r?\n/)) {
    const m = /^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\s+(.*)$/.exec(line);
    if (m) {
      last = { name: m[2]!, score: Number(m[1]), description: m[3]!.trim() };
      rules.push(last);
    } else if (last && /^\s{10,}\S/.test(line)) last.description += " " + line.trim();
  }
  return rules;
}

export async function spamdCheck(
  addr: SpamdAddress,
  message: Buffer,
  opts: { timeoutMs: number; user?: string; signal?: AbortSignal },
): Promise<SpamdCheck> {
  const headers: Record<string, string> = opts.user ? { User: opts.user } : {};
  const r = await spamdRequest(addr, "REPORT", message, headers, opts.timeoutMs, opts.signal);
  return { ...parseSpamHeader(r.headers.spam), rules: parseReport(r.body) };
}

/** Learn a message as spam or ham (spamd must run with --allow-tell). True when the database changed. */
export async function spamdTell(
  addr: SpamdAddress,
  message: Buffer,
  cls: "spam" | "ham",
  opts: { timeoutMs: number; user?: string; signal?: AbortSignal },
): Promise<boolean> {
  const headers: Record<string, string> = { "Message-class": cls, Set: "local" };
  if (opts.user) headers.User = opts.user;
  const r = await spamdRequest(addr, "TELL", message, headers, opts.timeoutMs, opts.signal);
  return /local/i.test(r.headers.didset ?? "");
}
