// `sluice sieve check FILE...` (errors as FILE:LINE:COL: message, exit 2) and
// `sluice sieve run SCRIPT MESSAGE` (prints the actions one recipient would get).
import { readFileSync } from "node:fs";
import { compileSieve, runSieve, SieveCompileError, SieveRuntimeError } from "../sieve/index.ts";
import { KNOWN_LISTS } from "../filters/sieve/scripts.ts";
import { bodyParts, type MessageData } from "../filters/sieve/environment.ts";
import { parseHeaderSection } from "../message/headers.ts";
import { parseMime } from "../message/mime.ts";
import { Readable } from "node:stream";

export function sieveCheck(files: string[]): number {
  let bad = 0;
  for (const f of files) {
    try {
      compileSieve(readFileSync(f, "utf8"), { name: f, knownLists: (n) => KNOWN_LISTS.includes(n) });
      process.stdout.write(`${f}: ok\n`);
    } catch (err) {
      bad++;
      if (err instanceof SieveCompileError) process.stderr.write(err.message + "\n");
      else process.stderr.write(`${f}: ${(err as Error).message}\n`);
    }
  }
  return bad ? 2 : 0;
}

export async function sieveRun(
  scriptFile: string,
  messageFile: string,
  o: { from?: string; rcpt?: string; auth?: string },
): Promise<number> {
  const script = compileSieve(readFileSync(scriptFile, "utf8"), {
    name: scriptFile,
    knownLists: (n) => KNOWN_LISTS.includes(n),
  });
  const raw = readFileSync(messageFile);
  const end = raw.indexOf("\r\n\r\n") !== -1 ? raw.indexOf("\r\n\r\n") + 2 : raw.indexOf("\n\n") + 1;
  const headers = parseHeaderSection(end > 0 ? raw.subarray(0, end) : raw);
  const view = await parseMime(Readable.from([raw]), { maxTextChars: 1_000_000 });
  const msg: MessageData = {
    headers: headers.entries(),
    rawBody: raw.subarray(end > 0 ? end : raw.length).toString("utf8"),
    text: view.text,
    html: view.html,
    attachmentTypes: view.attachments.map((a) => (a.detectedType ?? a.declaredType).toLowerCase()),
    size: raw.length,
  };
  const rcpt = o.rcpt ?? "postmaster@localhost";
  try {
    const res = runSieve(script, {
      envelope: { from: o.from ?? "", to: rcpt, auth: o.auth ?? null },
      headers: () => msg.headers,
      body: (t, types) => bodyParts(msg, t, types),
      size: raw.length,
      spamScore: null,
      spamPercent: null,
      virusStatus: null,
      symbols: new Map(),
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
