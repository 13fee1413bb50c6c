// Macro values the MTA sends (D packets), kept per stage with sendmail's invalidation rule:
// a new value list for a stage drops that stage's and every later stage's values.
// Storage only; which macro feeds which Session call is decided in connection.ts.
import { Cmd } from "./constants.ts";

/** Stage order of macro lists, by the command byte they precede. */
const ORDER: readonly number[] = [Cmd.CONNECT, Cmd.HELO, Cmd.MAIL, Cmd.RCPT, Cmd.DATA, Cmd.EOH, Cmd.BODYEOB];

/** Command byte → position in ORDER (-1: a stage outside the order, e.g. UNKNOWN). */
const POSITION: Int8Array = (() => {
  const p = new Int8Array(256).fill(-1);
  ORDER.forEach((cmd, i) => (p[cmd] = i));
  return p;
})();

type Values = Map<string, string>;

// Postfix sends a macro packet before every header, mostly empty: set() and get() allocate
// nothing when a list is empty, and get() walks at most eight slots.
export class MacroStore {
  private readonly slots: (Values | null)[] = ORDER.map(() => null);
  /** Stages outside ORDER (UNKNOWN, …): consulted first, dropped with everything else. */
  private extra: Map<number, Values> | null = null;

  /** Values sent before command `stage` (a Cmd byte). */
  set(stage: number, pairs: readonly [string, string][]): void {
    const idx = POSITION[stage & 0xff]!;
    const values = pairs.length ? new Map(pairs.map(([k, v]) => [normalize(k), v])) : null;
    if (idx === -1) {
      this.extra?.delete(stage);
      if (values) (this.extra ??= new Map()).set(stage, values);
      return;
    }
    for (let i = idx; i < this.slots.length; i++) this.slots[i] = null;
    this.slots[idx] = values;
  }

  /** Drop the values of `stage` and all later stages (ABORT drops the transaction's macros). */
  clearFrom(stage: number): void {
    const idx = POSITION[stage & 0xff]!;
    for (let i = Math.max(0, idx); i < this.slots.length; i++) this.slots[i] = null;
    this.extra = null;
  }

  clear(): void {
    this.slots.fill(null);
    this.extra = null;
  }

  /** The newest value of a macro; names may be given with or without braces. */
  get(name: string): string | undefined {
    const key = normalize(name);
    if (this.extra) {
      for (const values of this.extra.values()) {
        const v = values.get(key);
        if (v !== undefined) return v;
      }
    }
    for (let i = this.slots.length - 1; i >= 0; i--) {
      const v = this.slots[i]?.get(key);
      if (v !== undefined) return v;
    }
    return undefined;
  }
}

// Sendmail accepts "{name}" and "name" for long names; one-letter names have no braces.
function normalize(name: string): string {
  return name.charCodeAt(0) === 0x7b && name.charCodeAt(name.length - 1) === 0x7d ? name.slice(1, -1) : name;
}
