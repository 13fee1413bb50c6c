// Benchmark (`node bench/virus.ts`): messages/second and added latency of our clamd client
// (the virus filter's scan path, pooled IDSESSION connection) vs `clamdscan --stream` on the same
// files, in the same run, against one throwaway clamd. Not part of `npm test`.
import { execFile } from "node:child_process";
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ClamdClient } from "../src/filters/virus/clamd-client.ts";
import { CLAMDSCAN_BIN, EICAR, haveClamd, makeZip, mimeMessage, startClamd } from "../test/helpers/clamd.ts";

const run = promisify(execFile);
if (!haveClamd()) process.exit(0);

const dir = mkdtempSync(join(tmpdir(), "sluice-virus-bench-"));
const files: { name: string; path: string; size: number }[] = [];
const add = (name: string, b: Buffer) => {
  const path = join(dir, `${name}.eml`);
  writeFileSync(path, b);
  files.push({ name, path, size: b.length });
};
add("plain-2k", mimeMessage({ text: "Hello ".repeat(300) }));
add(
  "eicar-zip",
  mimeMessage({ attachments: [{ filename: "e.zip", data: makeZip([{ name: "e.com", data: EICAR }]) }] }),
);
const mb = Buffer.alloc(1024 * 1024);
for (let i = 0; i < mb.length; i += 4) mb.writeUInt32LE((i * 2654435761) >>> 0, i);
add("pdf-1m", mimeMessage({ attachments: [{ filename: "a.pdf", data: mb }] }));

const clamd = await startClamd();
const client = new ClamdClient({
  endpoints: [{ host: "127.0.0.1", port: clamd.port }],
  timeoutMs: 30_000,
  chunkBytes: 64 * 1024,
});
const N = Number(process.env.BENCH_N ?? 200);
const M = Number(process.env.BENCH_CLAMDSCAN_N ?? 40);

async function time(
  n: number,
  fn: () => Promise<unknown>,
): Promise<{ perSec: number; p50: number; p95: number }> {
  const ms: number[] = [];
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  const total = performance.now() - start;
  ms.sort((a, b) => a - b);
  return { perSec: (n * 1000) / total, p50: ms[Math.floor(n / 2)]!, p95: ms[Math.floor(n * 0.95)]! };
}

console.log(
  "file         bytes     ours msg/s  p50 ms  p95 ms | clamdscan --stream msg/s  p50 ms | verdicts",
);
try {
  for (const f of files) {
    await client.scan(() => createReadStream(f.path)); // warm the pooled connection
    const ours = await time(N, () => client.scan(() => createReadStream(f.path)));
    const theirs = await time(M, () =>
      run(CLAMDSCAN_BIN, ["-c", clamd.config, "--stream", "--no-summary", f.path]).catch(
        (e: { code?: number }) => {
          if (e.code !== 1) throw e;
        },
      ),
    );
    const v1 = (await client.scan(() => createReadStream(f.path))).status;
    const v2 = await run(CLAMDSCAN_BIN, ["-c", clamd.config, "--stream", "--no-summary", f.path]).then(
      () => "clean",
      (e: { code?: number }) => (e.code === 1 ? "infected" : `error ${e.code}`),
    );
    console.log(
      `${f.name.padEnd(12)} ${String(f.size).padStart(8)}  ${ours.perSec.toFixed(0).padStart(10)}  ${ours.p50.toFixed(2).padStart(6)}  ${ours.p95.toFixed(2).padStart(6)} | ${theirs.perSec.toFixed(0).padStart(24)}  ${theirs.p50.toFixed(2).padStart(6)} | ${v1}/${v2}`,
    );
  }
  console.log(`(ours: ${N} scans each over one reused connection; clamdscan: ${M} process runs each)`);
} finally {
  client.close();
  await clamd.stop();
  rmSync(dir, { recursive: true, force: true });
}
