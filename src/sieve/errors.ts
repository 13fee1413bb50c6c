// Typed errors of the Sieve library: compile-time diagnostics with positions, and runtime stops.
// Not for SMTP mapping: callers turn these into replies or error actions themselves.

export interface SieveDiagnostic {
  line: number;
  column: number;
  message: string;
  /** The included script the problem is in (RFC 6609); absent for the script being compiled. */
  script?: string;
}

export function formatDiagnostic(d: SieveDiagnostic): string {
  return `${d.line}:${d.column}: ${d.message}`;
}

/** "name:line:column: message", naming the included script when the problem is in one. */
export function formatWithScript(d: SieveDiagnostic, scriptName?: string): string {
  const name = d.script ?? scriptName;
  return (name ? `${name}:` : "") + formatDiagnostic(d);
}

/** A script failed to lex, parse or validate; holds every problem found, in source order. */
export class SieveCompileError extends Error {
  readonly diagnostics: SieveDiagnostic[];
  /** Warnings found on the way (RFC-legal but suspicious); never the reason for the failure. */
  readonly warnings: SieveDiagnostic[];
  readonly scriptName: string | undefined;
  constructor(diagnostics: SieveDiagnostic[], scriptName?: string, warnings: SieveDiagnostic[] = []) {
    super(diagnostics.map((d) => formatWithScript(d, scriptName)).join("\n"));
    this.name = "SieveCompileError";
    this.diagnostics = diagnostics;
    this.warnings = warnings;
    this.scriptName = scriptName;
  }
}

/**
 * Thrown inside the lexer/parser/validator for one problem; collected into a SieveCompileError.
 * Not exported from the package: callers only ever see SieveCompileError.
 */
export class SieveSyntaxError extends Error {
  readonly line: number;
  readonly column: number;
  constructor(line: number, column: number, message: string) {
    super(message);
    this.name = "SieveSyntaxError";
    this.line = line;
    this.column = column;
  }
}

/** Evaluation stopped; per RFC 5228 2.10.6 the caller should fall back to keeping the message. */
export class SieveRuntimeError extends Error {
  readonly line: number;
  readonly column: number;
  constructor(line: number, column: number, message: string) {
    super(`${line}:${column}: ${message}`);
    this.name = "SieveRuntimeError";
    this.line = line;
    this.column = column;
  }
}

export type SieveLimitName =
  | "maxSteps"
  | "maxStringLength"
  | "maxListLength"
  | "maxVariables"
  | "maxActions"
  | "maxRedirects"
  | "maxRegexProgramSize"
  | "maxRegexInputLength"
  | "maxMillis"
  | "maxLoopDepth"
  | "maxIncludeDepth"
  | "maxNotifications";

/** A configured hard limit was exceeded; evaluation stopped cleanly. */
export class SieveLimitError extends SieveRuntimeError {
  readonly limit: SieveLimitName;
  readonly max: number;
  constructor(line: number, column: number, limit: SieveLimitName, max: number, what: string) {
    super(line, column, `limit ${limit} (${max}) exceeded: ${what}`);
    this.name = "SieveLimitError";
    this.limit = limit;
    this.max = max;
  }
}
