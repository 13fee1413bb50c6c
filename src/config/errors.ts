// ConfigError: every problem found in a configuration file, each with file, line and path,
// so `sluice config check` and a refused reload can say exactly what to fix.

export interface ConfigIssue {
  file: string;
  line: number | null;
  /** Dotted path with indices, e.g. tenants[2].domains[0]. */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  readonly issues: ConfigIssue[];
  constructor(found: ConfigIssue[]) {
    const issues = [...found].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    super(issues.map(formatIssue).join("\n"));
    this.name = "ConfigError";
    this.issues = issues;
  }
}

export function formatIssue(i: ConfigIssue): string {
  const where = i.line === null ? i.file : `${i.file}:${i.line}`;
  return i.path ? `${where}: ${i.path}: ${i.message}` : `${where}: ${i.message}`;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}
