// Hard limits that bound compile and evaluation cost, with the defaults used when a caller gives none.
// Not the enforcement itself: the parser, validator and runtime check these numbers where work happens.

export interface SieveLimits {
  /** Commands, tests and individual value/key comparisons evaluated in one run. */
  maxSteps: number;
  /** Longest string a variable may hold or an expansion may produce (characters). */
  maxStringLength: number;
  /** Longest string list after expansion, and most header values examined by one test. */
  maxListLength: number;
  /** Deepest nesting of blocks and tests (checked at compile time). */
  maxNestingDepth: number;
  /** Distinct variables one run may set. */
  maxVariables: number;
  /** Actions one run may produce (including header edits). */
  maxActions: number;
  /** redirect actions one run may produce (RFC 5228 4.2 asks implementations to limit them). */
  maxRedirects: number;
  /** RE2 program size of one :regex pattern. */
  maxRegexProgramSize: number;
  /** Longest input a :regex pattern is run against (characters). */
  maxRegexInputLength: number;
  /** Wall-clock budget for one run, checked every few hundred steps. */
  maxMillis: number;
  /** Largest accepted script source (characters). */
  maxScriptLength: number;
  /** Deepest nesting of foreverypart loops, counted across included scripts (Pigeonhole: 4). */
  maxLoopDepth: number;
  /** Deepest chain of include commands (RFC 6609 3.2 asks for a limit; Pigeonhole: 10). */
  maxIncludeDepth: number;
  /** Distinct scripts one compile may include (Pigeonhole: 255). */
  maxIncludedScripts: number;
  /** enotify notifications one run may produce (Pigeonhole's sieve_notify_max_notifications: 10). */
  maxNotifications: number;
}

export const DEFAULT_LIMITS: Readonly<SieveLimits> = Object.freeze({
  maxSteps: 250_000,
  maxStringLength: 64 * 1024,
  maxListLength: 1024,
  maxNestingDepth: 32,
  maxVariables: 256,
  maxActions: 128,
  maxRedirects: 16,
  maxRegexProgramSize: 2_000,
  maxRegexInputLength: 256 * 1024,
  maxMillis: 2_000,
  maxScriptLength: 1024 * 1024,
  maxLoopDepth: 4,
  maxIncludeDepth: 10,
  maxIncludedScripts: 255,
  maxNotifications: 10,
});

export function resolveLimits(partial?: Partial<SieveLimits>): SieveLimits {
  return { ...DEFAULT_LIMITS, ...partial };
}
