// Loading admin Sieve scripts for the pipeline: read and compile at configuration load, so a
// script error blocks the configuration (with FILE:LINE:COL) and never surfaces at delivery.
import { readFileSync, statSync } from "node:fs";
import { compileSieve, SieveCompileError, type CompiledScript } from "../../sieve/index.ts";

/** The list names Sluice binds for extlists (RFC 6134). */
export const KNOWN_LISTS = ["tag:internal-domains", "tag:whitelist", "tag:blacklist"];

const cache = new Map<string, { mtimeMs: number; size: number; script: CompiledScript }>();

export class SieveScriptError extends Error {}

/** Compile a script file, reusing the compiled form while the file is unchanged. */
export function loadScript(path: string): CompiledScript {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw new SieveScriptError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
  const hit = cache.get(path);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.script;
  try {
    const script = compileSieve(readFileSync(path, "utf8"), {
      name: path,
      knownLists: (n) => KNOWN_LISTS.includes(n),
    });
    cache.set(path, { mtimeMs: st.mtimeMs, size: st.size, script });
    return script;
  } catch (err) {
    if (err instanceof SieveCompileError) throw new SieveScriptError(err.message);
    throw err;
  }
}
