// `sluice sieve check FILE...` (errors as FILE:LINE:COL: message, exit 2; warnings as
// FILE:LINE:COL: warning: message, exit 0) and `sluice sieve run SCRIPT [MESSAGE]` (prints the
// actions one recipient would get; the message may be a stored quarantine entry: --quarantine ID).
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import {
  runSieve,
  SieveRuntimeError,
  formatWithScript,
  buildMimeTree,
  type SieveDiagnostic,
} from "../sieve/index.ts";
import { loadScript, SieveScriptError, type ScriptSettings } from "../filters/sieve/scripts.ts";
import { bodyParts, type MessageData } from "../filters/sieve/environment.ts";
import { addArchiveMembers } from "../filters/sieve/archive-parts.ts";
import { parseHeaderSection } from "../message/headers.ts";
import { parseMime } from "../message/mime.ts";

export interface ScriptLocationOptions {
  globalDir?: string;
  personalDir?: string;
  notifyDomain?: string[];
}

function settings(o: ScriptLocationOptions): ScriptSettings {
  return { globalDir: o.globalDir, personalDir: o.personalDir, notifyDomains: o.notifyDomain ?? [] };
}

function warningLines(file: string, warnings: readonly SieveDiagnostic[]): string {
  return warnings
    .map((w) => formatWithScript({ ...w, message: `warning: ${w.message}` }, file) + "\n")
    .join("");
}

export function sieveCheck(files: string[], o: ScriptLocationOptions = {}): number {
  let bad = 0;
  for (const f of files) {
    try {
      const script = loadScript(f, settings(o));
      process.stderr.write(warningLines(f, script.warnings));
      const w = script.warnings.length;
      process.stdout.write(`${f}: ok${w ? ` (${w} warning${w > 1 ? "s" : ""})` : ""}\n`);
    } catch (err) {
      bad++;
      process.stderr.write(
        err instanceof SieveScriptError ? err.message + "\n" : `${f}: ${(err as Error).message}\n`,
      );
    }
  }
  return bad ? 2 : 0;
}

export interface RunOptions extends ScriptLocationOptions {
  from?: string;
  rcpt?: string;
  auth?: string;
  /** Run against this quarantine entry (message, envelope and symbols from the store). */
  quarantine?: string;
  config?: string;
}

interface Stored {
  raw: Buffer;
  from: string;
  rcpt: string;
  symbols: Map<string, number>;
}

async function fromQuarantine(id: string, config: string | undefined): Promise<Stored> {
  // Loaded only here: `sieve check` and `sieve run FILE` need no node, store or logger.
  const [{ Runtime }, { default: pino }] = await Promise.all([import("../runtime.ts"), import("pino")]);
  const rt = await Runtime.create({
    configPath: config,
    logger: pino({ level: "warn" }, pino.destination(2)),
  });
  try {
    if (!rt.store) throw new Error("no store: check the configuration's store: setting");
    const item = await rt.store.getQuarantine(id);
    const raw = item && (await rt.store.quarantineMessage(id));
    if (!item || !raw) throw new Error(`no quarantine entry ${id}`);
    return {
      raw,
      from: item.envelope.mailFrom?.address ?? "",
      rcpt: item.recipients[0]?.address ?? "postmaster@localhost",
      symbols: new Map(item.symbols.map((s) => [s.name, s.score])),
    };
  } finally {
    await rt.close();
  }
}

export async function sieveRun(
  scriptFile: string,
  messageFile: string | undefined,
  o: RunOptions,
): Promise<number> {
  let script;
  try {
    script = loadScript(scriptFile, settings(o));
  } catch (err) {
    process.stderr.write((err as Error).message + "\n");
    return 2;
  }
  let stored: Stored;
  if (o.quarantine) stored = await fromQuarantine(o.quarantine, o.config);
  else if (messageFile) stored = { raw: readFileSync(messageFile), from: "", rcpt: "", symbols: new Map() };
  else {
    process.stderr.write("sieve run: give a message file or --quarantine ID\n");
    return 2;
  }
  const raw = stored.raw;
  const end = raw.indexOf("\r\n\r\n") !== -1 ? raw.indexOf("\r\n\r\n") + 2 : raw.indexOf("\n\n") + 1;
  const headers = parseHeaderSection(end > 0 ? raw.subarray(0, end) : raw);
  const view = await parseMime(Readable.from([raw]), { maxTextChars: 1_000_000 });
  const tree = buildMimeTree(raw);
  const caps = new Set([...script.requires, ...[...script.units.values()].flatMap((u) => [...u.requires])]);
  if (caps.has("vnd.sluice.archive")) await addArchiveMembers(tree);
  const msg: MessageData = {
    headers: headers.entries(),
    rawBody: raw.subarray(end > 0 ? end : raw.length).toString("utf8"),
    text: view.text,
    html: view.html,
    attachmentTypes: view.attachments.map((a) => (a.detectedType ?? a.declaredType).toLowerCase()),
    size: raw.length,
    mime: tree,
  };
  const rcpt = o.rcpt ?? (stored.rcpt || "postmaster@localhost");
  try {
    const res = runSieve(script, {
      envelope: { from: o.from ?? stored.from, to: rcpt, auth: o.auth ?? null },
      headers: () => msg.headers,
      body: (t, types) => bodyParts(msg, t, types),
      mime: () => tree,
      size: raw.length,
      spamScore: null,
      spamPercent: null,
      virusStatus: null,
      symbols: stored.symbols,
      environment: { name: "Sluice", location: o.auth ? "MSA" : "MTA", phase: "during" },
      lists: () => false,
      now: new Date(),
    });
    for (const a of res.actions) process.stdout.write(JSON.stringify(a) + "\n");
    for (const e of res.headerEdits) process.stdout.write(JSON.stringify({ header: e }) + "\n");
    if (res.implicitKeep) process.stdout.write('{"type":"keep","implicit":true}\n');
    return 0;
  } catch (err) {
    if (!(err instanceof SieveRuntimeError)) throw err;
    process.stderr.write(`${scriptFile}:${err.line}:${err.column}: ${err.message}\n`);
    return 1;
  }
}
