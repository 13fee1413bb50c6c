// Loading admin Sieve scripts for the pipeline: read and compile at configuration load, so a
// script error blocks the configuration (with FILE:LINE:COL, naming an included file when the error
// is in one) and never surfaces at delivery. Included scripts (RFC 6609) come from the operator's
// global directory and the tenant's personal directory; the compiled set is reused while no file
// of it changed.
import { readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import {
  compileSieve,
  SieveCompileError,
  type CompiledScript,
  type IncludeResolver,
  type SieveDiagnostic,
} from "../../sieve/index.ts";
import { templatesNamedIn } from "./templates.ts";

/** The list names Sluice binds for extlists (RFC 6134). */
export const KNOWN_LISTS = ["tag:internal-domains", "tag:whitelist", "tag:blacklist"];

/** Where scripts come from and what they may do; part of the cache key. */
export interface ScriptSettings {
  /** include :global "NAME" reads GLOBAL_DIR/NAME.sieve (the operator's shared scripts). */
  globalDir?: string;
  /** include :personal "NAME" reads PERSONAL_DIR/NAME.sieve; default: the main script's folder. */
  personalDir?: string;
  /** enotify mailto targets must be in one of these domains (or a subdomain of a "*.domain" entry). */
  notifyDomains?: string[];
}

interface Entry {
  /** Every file of the set with the stat it had when compiled. */
  files: { path: string; mtimeMs: number; size: number }[];
  script: CompiledScript;
  templates: string[];
}

const cache = new Map<string, Entry>();

export class SieveScriptError extends Error {}

/** Compile a script file with its includes, reusing the compiled set while no file changed. */
export function loadScript(path: string, settings: ScriptSettings = {}): CompiledScript {
  return load(path, settings).script;
}

/** Notification templates the script and its includes name (checked against the policy's templates at load). */
export function scriptTemplates(path: string, settings: ScriptSettings = {}): string[] {
  return load(path, settings).templates;
}

/** Warnings of the compiled set (for `sluice sieve check` and the console). */
export function scriptWarnings(path: string, settings: ScriptSettings = {}): readonly SieveDiagnostic[] {
  return load(path, settings).script.warnings;
}

/** Whether an address may receive an enotify notification under these settings. */
export function notifyAllowed(domains: readonly string[] | undefined): (address: string) => boolean {
  const list = (domains ?? []).map((d) => d.toLowerCase());
  return (address) => {
    const domain = address.slice(address.lastIndexOf("@") + 1).toLowerCase();
    return list.some((d) =>
      d.startsWith("*.") ? domain.endsWith(d.slice(1)) || domain === d.slice(2) : domain === d,
    );
  };
}

function stat(path: string): { mtimeMs: number; size: number } | null {
  try {
    const st = statSync(path);
    return { mtimeMs: st.mtimeMs, size: st.size };
  } catch {
    return null;
  }
}

function fresh(e: Entry): boolean {
  return e.files.every((f) => {
    const st = stat(f.path);
    return st !== null && st.mtimeMs === f.mtimeMs && st.size === f.size;
  });
}

/** Resolves include names to files, remembering what it read so changes invalidate the cache. */
function resolver(
  path: string,
  settings: ScriptSettings,
  files: Entry["files"],
  sources: string[],
): IncludeResolver {
  return {
    resolve(location, name) {
      const dir =
        location === "global" ? settings.globalDir : (settings.personalDir ?? (path && dirname(path)));
      if (!dir)
        throw new Error(`no ${location} script directory is configured (sieve option ${location}_dir)`);
      const file = join(dir, `${name}.sieve`);
      const st = stat(file);
      if (!st) return null;
      const source = readFileSync(file, "utf8");
      files.push({ path: file, ...st });
      sources.push(source);
      return { id: file, name: file, source };
    },
  };
}

function load(path: string, settings: ScriptSettings): Entry {
  const key = JSON.stringify([path, settings.globalDir, settings.personalDir, settings.notifyDomains]);
  const hit = cache.get(key);
  if (hit && fresh(hit)) return hit;
  const st = stat(path);
  if (!st) throw new SieveScriptError(`${path}: cannot read`);
  const files: Entry["files"] = [{ path, ...st }];
  const sources: string[] = [];
  try {
    const source = readFileSync(path, "utf8");
    sources.push(source);
    const script = compileSieve(source, {
      name: path,
      knownLists: (n) => KNOWN_LISTS.includes(n),
      include: resolver(path, settings, files, sources),
      notifyAllowed: notifyAllowed(settings.notifyDomains),
    });
    const entry: Entry = { files, script, templates: sources.flatMap(templatesNamedIn) };
    cache.set(key, entry);
    return entry;
  } catch (err) {
    if (err instanceof SieveCompileError) throw new SieveScriptError(err.message);
    throw err;
  }
}

/** Options of the sieve filter as they bear on compiling (for checks outside a configuration load). */
export interface SieveCheckOptions {
  global_dir?: string;
  personal_dir?: string;
  enotify?: { domains?: string[] };
}

/**
 * Compiles script text (the console's editor) with the include locations and enotify allow-list of
 * the given sieve options: errors and warnings with line and column, and the file they are in when
 * that is an included script.
 */
export function checkSieveSource(
  source: string,
  o: SieveCheckOptions = {},
): { ok: boolean; errors: SieveDiagnostic[]; warnings: SieveDiagnostic[] } {
  const settings: ScriptSettings = {
    globalDir: o.global_dir,
    personalDir: o.personal_dir,
    notifyDomains: o.enotify?.domains ?? [],
  };
  try {
    const script = compileSieve(source, {
      name: "script",
      knownLists: (n) => KNOWN_LISTS.includes(n),
      include: settings.globalDir || settings.personalDir ? resolver("", settings, [], []) : undefined,
      notifyAllowed: notifyAllowed(settings.notifyDomains),
    });
    return { ok: true, errors: [], warnings: [...script.warnings] };
  } catch (err) {
    if (err instanceof SieveCompileError)
      return { ok: false, errors: err.diagnostics, warnings: err.warnings };
    throw err;
  }
}
