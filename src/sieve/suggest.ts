// "Did you mean" hints for misspelt command, test, tag and extension names in compile errors.
// Not validation: callers decide that a name is unknown; this only finds a close known one.

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j] as number;
      prev[j] = Math.min(up + 1, (prev[j - 1] as number) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length] as number;
}

/** ` (did you mean "x"?)` for the closest candidate within two edits, else "". */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  if (name.length > 64) return "";
  let best: string | null = null;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = distance(name, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best === null ? "" : ` (did you mean "${best}"?)`;
}
