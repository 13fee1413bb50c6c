// Compiles :regex keys (draft-ietf-sieve-regex) on re2js, so user patterns run in linear time.
// Never uses JS RegExp for user input; program size is capped so a pattern cannot blow up memory.

import { RE2JS } from "re2js";

export class RegexCompileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RegexCompileError";
  }
}

export interface CompiledRegex {
  re: RE2JS;
  groups: number;
}

/** Throws RegexCompileError for bad syntax or a program larger than maxProgramSize. */
export function compileRegex(
  pattern: string,
  caseInsensitive: boolean,
  maxProgramSize: number,
): CompiledRegex {
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern, caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0);
  } catch (err) {
    throw new RegexCompileError(
      `invalid regular expression ${JSON.stringify(pattern)}: ${(err as Error).message}`,
    );
  }
  const size = re.programSize();
  if (size > maxProgramSize) {
    throw new RegexCompileError(
      `regular expression ${JSON.stringify(pattern)} too complex (program size ${size} > ${maxProgramSize})`,
    );
  }
  return { re, groups: re.groupCount() };
}

/** Unanchored search; returns ${0}..${n} captures (unmatched groups as "") or null. */
export function execRegex(rx: CompiledRegex, input: string): string[] | null {
  const m = rx.re.matcher(input);
  if (!m.find()) return null;
  const out: string[] = [];
  for (let g = 0; g <= rx.groups; g++) out.push(m.group(g) ?? "");
  return out;
}
