// Reads training mail from a PATH: a directory of .eml files (searched recursively, which
// covers a Maildir's cur/ and new/), an mbox file, or a single message file. Yields raw bytes.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { TrainingInputError } from "./errors.ts";

/** Every message under `path`, in a stable (sorted) order so training is reproducible. */
export async function* readMessages(path: string): AsyncGenerator<Buffer> {
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new TrainingInputError(path, "no such file or directory");
  }
  if (st.isDirectory()) {
    for (const file of await listFiles(path)) yield await readFile(file);
    return;
  }
  const buf = await readFile(path);
  if (buf.subarray(0, 5).toString("latin1") === "From ") yield* splitMbox(buf);
  else yield buf;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    if (e.name.startsWith(".")) continue;
    const p = join(dir, e.name);
    // A Maildir's tmp/ holds messages still being written.
    if (e.isDirectory() && e.name !== "tmp") out.push(...(await listFiles(p)));
    else if (e.isFile() && !/\.(json|md|txt\.gz|gz|zip)$/i.test(e.name) && !e.name.startsWith("dovecot")) {
      out.push(p);
    }
  }
  return out;
}

/** mboxrd/mboxo: messages start at lines beginning "From "; ">From " quoting is undone. */
export function* splitMbox(buf: Buffer): Generator<Buffer> {
  const text = buf.toString("latin1");
  const starts: number[] = [];
  if (text.startsWith("From ")) starts.push(0);
  for (let i = text.indexOf("\nFrom "); i !== -1; i = text.indexOf("\nFrom ", i + 1)) starts.push(i + 1);
  for (let k = 0; k < starts.length; k++) {
    const s = starts[k]!;
    const e = k + 1 < starts.length ? starts[k + 1]! : text.length;
    const nl = text.indexOf("\n", s);
    if (nl === -1 || nl >= e) continue;
    const body = text.slice(nl + 1, e).replace(/^>(>*From )/gm, "$1");
    yield Buffer.from(body, "latin1");
  }
}
