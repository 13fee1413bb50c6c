// Loading admin Sieve scripts for the pipeline: read and compile at configuration load, so a
// script error blocks the configuration (with FILE:LINE:COL) and never surfaces at delivery.
import { readFileSync, statSync } from "node:fs";
import { compileSieve, SieveCompileError, type CompiledScript } from "../../sieve/index.ts";
import { templatesNamedIn } from "./templates.ts";

/** The list names Sluice binds for extlists (RFC 6134). */
export const KNOWN_LISTS = ["tag:internal-domains", "tag:whitelist", "tag:blacklist"];

const cache = new Map<
  string,
  { mtimeMs: number; size: number; script: CompiledScript; templates: string[] }
>();

export class SieveScriptError extends Error {}

/** Compile a script file, reusing the compiled form while the file is unchanged. */
export function loadScript(path: string): CompiledScript {
  return load(path).script;
}

/** Notification templates the script names (checked against the policy's templates at load). */
export function scriptTemplates(path: string): string[] {
  return load(path).templates;
}

function load(path: string): { script: CompiledScript; templates: string[] } {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw new SieveScriptError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
  const hit = cache.get(path);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit;
  try {
    const source = readFileSync(path, "utf8");
    const script = compileSieve(source, { name: path, knownLists: (n) => KNOWN_LISTS.includes(n) });
    const entry = { mtimeMs: st.mtimeMs, size: st.size, script, templates: templatesNamedIn(source) };
    cache.set(path, entry);
    return entry;
  } catch (err) {
    if (err instanceof SieveCompileError) throw new SieveScriptError(err.message);
    throw err;
  }
}
