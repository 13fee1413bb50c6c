// `sluice scan`: the whole configured pipeline, offline, on .eml files or stdin. Prints
// each recipient's action, score and symbols (a table, or one JSON object per message).
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import type { Readable } from "node:stream";
import { parseHeaderSection } from "../message/headers.ts";
import { MessageError } from "../message/errors.ts";
import type { Runtime } from "../runtime.ts";
import type { RecipientVerdict } from "../pipeline/session.ts";
import type { TraceEntry } from "../pipeline/trace.ts";

export interface ScanOptions {
  from?: string;
  rcpt: string[];
  ip: string;
  helo: string;
  auth?: string;
  json: boolean;
  explain: boolean;
}

export interface ScanReport {
  file: string;
  id: string | null;
  reply: string | null;
  error?: string;
  recipients: (Omit<RecipientVerdict, "trace"> & { trace?: TraceEntry[]; reply?: string })[];
}

const HEAD_PEEK = 64 * 1024;

export async function scanFile(runtime: Runtime, file: string, opts: ScanOptions): Promise<ScanReport> {
  const head = file === "-" ? null : await peek(file);
  const defaults = head ? envelopeDefaults(head) : { from: "", rcpt: [] };
  const from = opts.from ?? defaults.from;
  const rcpts = opts.rcpt.length
    ? opts.rcpt
    : defaults.rcpt.length
      ? defaults.rcpt
      : ["postmaster@localhost"];
  const session = runtime.newSession();
  const report: ScanReport = { file, id: null, reply: null, recipients: [] };
  try {
    const c = await session.connect({ ingress: "scan", address: opts.ip, localName: "localhost" });
    if (!c.ok) return { ...report, reply: fmt(c.reply) };
    const h = await session.helo(opts.helo);
    if (!h.ok) return { ...report, reply: fmt(h.reply) };
    if (opts.auth) session.setAuth(opts.auth);
    const m = await session.mail(from, {});
    report.id = session.tx?.id ?? null;
    if (!m.ok) return { ...report, reply: fmt(m.reply) };
    for (const r of rcpts) {
      const res = await session.rcpt(r, {});
      if (!res.ok) {
        report.recipients.push({
          address: r,
          action: res.reply.code >= 500 ? "reject" : "tempfail",
          score: 0,
          symbols: [],
          reply: fmt(res.reply),
        });
      }
    }
    if (!session.tx?.envelope.recipients.length) return report;
    const writer = session.beginData();
    const input: Readable =
      file === "-" ? process.stdin : createReadStream(file, { highWaterMark: 64 * 1024 });
    let first = true;
    for await (const chunk of input) {
      let b = chunk as Buffer;
      if (first) {
        b = stripMboxFrom(b);
        first = false;
      }
      await writer.write(b);
    }
    await writer.end();
    const result = await session.data();
    report.reply = result.reply ? fmt(result.reply) : null;
    for (const v of result.verdicts) {
      report.recipients.push({
        address: v.address,
        action: v.action,
        score: v.score,
        symbols: v.symbols,
        ...(opts.explain ? { trace: v.trace } : {}),
      });
    }
    return report;
  } catch (err) {
    if (err instanceof MessageError)
      return { ...report, error: `${err.code} ${err.enhanced} ${err.message}` };
    if ((err as NodeJS.ErrnoException).code === "ENOENT")
      return { ...report, error: `cannot read ${file}: no such file` };
    throw err;
  } finally {
    await session.close();
  }
}

function fmt(r: { code: number; enhanced: string; text: string }): string {
  return `${r.code} ${r.enhanced} ${r.text}`;
}

async function peek(file: string): Promise<Buffer | null> {
  try {
    const fh = await open(file, "r");
    try {
      const buf = Buffer.alloc(HEAD_PEEK);
      const { bytesRead } = await fh.read(buf, 0, HEAD_PEEK, 0);
      return stripMboxFrom(buf.subarray(0, bytesRead));
    } finally {
      await fh.close();
    }
  } catch {
    return null;
  }
}

/** A leading mbox "From " separator line is not part of the message. */
function stripMboxFrom(b: Buffer): Buffer {
  if (b.subarray(0, 5).toString("latin1") !== "From ") return b;
  const nl = b.indexOf(0x0a);
  return nl === -1 ? b : b.subarray(nl + 1);
}

/** Envelope guesses for an offline scan: Return-Path or From as sender, To and Cc as recipients. */
function envelopeDefaults(head: Buffer): { from: string; rcpt: string[] } {
  const end = head.indexOf("\n\n") !== -1 ? head.indexOf("\n\n") + 1 : head.indexOf("\r\n\r\n") + 2;
  const headers = parseHeaderSection(end > 1 ? head.subarray(0, end) : head);
  const addrs = (v: string | null) =>
    [...(v ?? "").matchAll(/([^\s<>,;"()]+@[^\s<>,;"()]+)/g)].map((m) => m[1]!);
  const from = addrs(headers.get("Return-Path"))[0] ?? addrs(headers.get("From"))[0] ?? "";
  const rcpt = [
    ...new Set([...addrs(headers.get("To")), ...addrs(headers.get("Cc"))].map((a) => a.toLowerCase())),
  ];
  return { from, rcpt: rcpt.slice(0, 50) };
}

export function formatTable(r: ScanReport): string {
  const lines = [`${r.file}${r.id ? `  (ref ${r.id})` : ""}`];
  if (r.error) lines.push(`  error: ${r.error}`);
  if (r.reply) lines.push(`  reply: ${r.reply}`);
  for (const v of r.recipients) {
    const syms = v.symbols.map((s) => `${s.name}(${s.score})`).join(" ") || "-";
    lines.push(`  ${v.address.padEnd(32)} ${v.action.padEnd(10)} ${v.score.toFixed(2).padStart(7)}  ${syms}`);
    if (v.reply) lines.push(`      ${v.reply}`);
    for (const t of v.trace ?? []) lines.push(`      ${formatTrace(t)}`);
  }
  return lines.join("\n");
}

function formatTrace(t: TraceEntry): string {
  if ("decision" in t) return `=> ${t.decision}: ${t.by}`;
  if (!t.ran) return `skip ${t.filter} [${t.stage}]: ${t.reason}`;
  const extra = [
    t.symbols.join(" "),
    t.action ? `action ${t.action}` : "",
    t.error ? `error: ${t.error}` : "",
  ]
    .filter(Boolean)
    .join("; ");
  return `ran  ${t.filter} [${t.stage}] ${t.ms} ms${extra ? `: ${extra}` : ""}`;
}
