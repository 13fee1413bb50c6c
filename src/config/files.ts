// The files a configuration points to — TLS certificates and keys, the node's secret key, DKIM and
// ARC private keys, a spam model — checked the way a start would read them: `sluice config check`
// reports each one this machine cannot read as FILE:LINE: path: message (as `postfix check` looks
// at the files main.cf names). Sieve scripts need no entry here: loading compiles them already.
import { access, constants } from "node:fs/promises";
import { resolve } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { formatPath, type ConfigIssue } from "./errors.ts";
import { lineFor } from "./load.ts";

type Segment = string | number;

/** A file setting: its place in the configuration and the path written there. */
export interface FileSetting {
  at: Segment[];
  file: string;
}

/** Is this key, at this place, a file the node reads? */
function isFileKey(at: readonly Segment[], key: string): boolean {
  if (key === "key_file" || key === "private_key_file") return true;
  if ((key === "cert" || key === "key") && at[at.length - 1] === "tls") return true;
  // spam-classifier: { options: { model: FILE } } in any policy layer.
  return key === "model" && at[at.length - 1] === "options" && at[at.length - 2] === "spam-classifier";
}

/** Every file setting of a configuration read from YAML (before defaults), in file order. */
export function fileSettings(raw: unknown): FileSetting[] {
  const out: FileSetting[] = [];
  const walk = (v: unknown, at: Segment[]) => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...at, i]));
    else if (v !== null && typeof v === "object")
      for (const [k, x] of Object.entries(v)) {
        if (typeof x === "string" && isFileKey(at, k)) out.push({ at: [...at, k], file: x });
        else walk(x, [...at, k]);
      }
  };
  walk(raw, []);
  return out;
}

/** The file settings of a (valid) configuration text this process cannot read; relative to cwd. */
export async function unreadableFiles(text: string, file: string): Promise<ConfigIssue[]> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const issues: ConfigIssue[] = [];
  for (const s of fileSettings(doc.toJS({ maxAliasCount: 100 }))) {
    try {
      await access(resolve(s.file), constants.R_OK);
    } catch (err) {
      const line = lineFor(doc, lines, s.at);
      const code = (err as NodeJS.ErrnoException).code ?? "error";
      issues.push({ file, line, path: formatPath(s.at), message: `cannot read ${s.file} (${code})` });
    }
  }
  return issues;
}
