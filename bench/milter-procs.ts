// What a process tree costs, read from /proc: CPU time (own and reaped children's) and peak RSS.
// For bench/milter.ts: the milter, Postfix (master and its daemons), smtp-source and smtp-sink
// are measured the same way, between two snapshots. Linux only; a vanished process counts zero.
import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux this runs on

/** utime+stime+cutime+cstime of one process, in clock ticks. */
function ticks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces: fields are counted after its ")".
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  } catch {
    return 0;
  }
}

function children(): Map<number, number[]> {
  const kids = new Map<number, number[]>();
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = kids.get(ppid) ?? [];
      list.push(Number(e));
      kids.set(ppid, list);
    } catch {
      // Gone meanwhile.
    }
  }
  return kids;
}

/** A process and all its live descendants. */
export function tree(root: number): number[] {
  const kids = children();
  const out: number[] = [];
  const todo = [root];
  while (todo.length) {
    const p = todo.pop()!;
    out.push(p);
    todo.push(...(kids.get(p) ?? []));
  }
  return out;
}

/**
 * CPU seconds used so far by a process tree: every live member's own time plus the time of the
 * children it has reaped (a Postfix daemon that exited is in master's cutime once reaped).
 */
export function treeCpuSeconds(root: number): number {
  return tree(root).reduce((s, p) => s + ticks(p), 0) / TICKS_PER_SECOND;
}

/** Peak RSS (VmHWM) of one process, KiB. */
export function peakRssKiB(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** CPU seconds of a tree between start() and stop(). */
export class CpuMeter {
  private readonly root: () => number | null;
  private before = 0;

  constructor(root: () => number | null) {
    this.root = root;
  }

  start(): void {
    const r = this.root();
    this.before = r ? treeCpuSeconds(r) : 0;
  }

  stop(): number {
    const r = this.root();
    return r ? Math.max(0, treeCpuSeconds(r) - this.before) : 0;
  }
}

/** `sh -c 'CMD; times'` prints the children's user and system time last: their sum, seconds. */
export function parseTimes(stderr: string): number {
  const lines = stderr.trim().split("\n");
  const m = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/.exec(lines.at(-1) ?? "");
  return m ? Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]) : 0;
}
