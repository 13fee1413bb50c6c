// Macro values the MTA sends (D packets), kept per stage with sendmail's invalidation rule:
// a new value list for a stage drops that stage's and every later stage's values.
// Storage only; which macro feeds which Session call is decided in connection.ts.
import { Cmd } from "./constants.ts";

/** Stage order of macro lists, by the command byte they precede. */
const ORDER: readonly number[] = [Cmd.CONNECT, Cmd.HELO, Cmd.MAIL, Cmd.RCPT, Cmd.DATA, Cmd.EOH, Cmd.BODYEOB];

export class MacroStore {
  private readonly stages = new Map<number, Map<string, string>>();

  /** Values sent before command `stage` (a Cmd byte). */
  set(stage: number, pairs: readonly [string, string][]): void {
    const idx = ORDER.indexOf(stage);
    if (idx !== -1) for (const later of ORDER.slice(idx)) this.stages.delete(later);
    else this.stages.delete(stage);
    this.stages.set(stage, new Map(pairs.map(([k, v]) => [normalize(k), v])));
  }

  /** Drop the values of `stage` and all later stages (ABORT drops the transaction's macros). */
  clearFrom(stage: number): void {
    const idx = ORDER.indexOf(stage);
    for (const later of ORDER.slice(idx === -1 ? 0 : idx)) this.stages.delete(later);
  }

  clear(): void {
    this.stages.clear();
  }

  /** The newest value of a macro; names may be given with or without braces. */
  get(name: string): string | undefined {
    const key = normalize(name);
    const extra = [...this.stages.keys()].filter((s) => !ORDER.includes(s));
    for (const stage of [...extra, ...[...ORDER].reverse()]) {
      const v = this.stages.get(stage)?.get(key);
      if (v !== undefined) return v;
    }
    return undefined;
  }
}

// Sendmail accepts "{name}" and "name" for long names; one-letter names have no braces.
function normalize(name: string): string {
  return name.startsWith("{") && name.endsWith("}") ? name.slice(1, -1) : name;
}
