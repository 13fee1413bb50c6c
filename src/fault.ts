// Crash points for the crash-matrix tests: `faultPoint("name")` kills the process with SIGKILL
// when SLUICE_FAULT names that point. Honoured only when NODE_ENV=test (the tests set it for
// the processes they start); a production node never reads SLUICE_FAULT, so a stray variable
// cannot take it down. Points are listed in test/integration/crash-matrix.test.ts.
const armed: ReadonlySet<string> =
  process.env.NODE_ENV === "test" && process.env.SLUICE_FAULT
    ? new Set(process.env.SLUICE_FAULT.split(",").map((s) => s.trim()))
    : new Set();

export function faultPoint(name: string): void {
  if (!armed.has(name)) return;
  process.stderr.write(`fault point ${name}: SIGKILL\n`);
  process.kill(process.pid, "SIGKILL");
}

/** Whether any fault point is armed (wrappers are only installed then). */
export const faultsArmed = armed.size > 0;
