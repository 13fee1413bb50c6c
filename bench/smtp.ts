// Benchmark: smtp-source (N messages of ~20 KB over 20 sessions) into smtp-sink, (a) directly,
// (b) through a private Postfix smtpd, (c) through Sluice's SMTP proxy with the cheap built-in
// filters, (d) through Haraka (npm, installed into .bench/haraka on first use) with smtp_forward.
// Prints messages/second, the ratios c/a, c/b, c/d and Sluice's peak RSS. Not part of `npm test`.
//   node bench/smtp.ts [--messages 10000] [--sessions 20] [--size 20480] [--only abcd]
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir, availableParallelism } from "node:os";
import { parseArgs, promisify } from "node:util";
import { connect } from "node:net";
import { startPostfix } from "../test/helpers/postfix.ts";
import { freePort } from "../test/helpers/ports.ts";

const run = promisify(execFile);
const { values: args } = parseArgs({
  options: {
    messages: { type: "string", default: "10000" },
    sessions: { type: "string", default: "20" },
    size: { type: "string", default: "20480" },
    only: { type: "string", default: "abcd" },
  },
});
const N = Number(args.messages);
const ROOT = join(import.meta.dirname, "..");

async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const ok = await new Promise<boolean>((res) => {
      const s = connect(port, "127.0.0.1", () => {
        s.destroy();
        res(true);
      });
      s.on("error", () => res(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} never opened`);
}

async function source(port: number): Promise<number> {
  const t0 = performance.now();
  await run(
    "/usr/sbin/smtp-source",
    [
      "-s",
      String(args.sessions),
      "-m",
      String(N),
      "-l",
      String(args.size),
      "-f",
      "bench@remote.example",
      "-t",
      "user@example.com",
      `127.0.0.1:${port}`,
    ],
    { maxBuffer: 1 << 24 },
  );
  return N / ((performance.now() - t0) / 1000);
}

function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

async function startSink(): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn("/usr/sbin/smtp-sink", ["-u", "nobody", `127.0.0.1:${port}`, "1000"], {
    stdio: "ignore",
  });
  await waitPort(port);
  return { port, child };
}

async function sluice(sinkPort: number): Promise<{ port: number; child: ChildProcess; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-bench-"));
  const port = await freePort();
  writeFileSync(
    join(dir, "sluice.yaml"),
    `log: { level: warn }
store: sqlite:${dir}/store.db
delivery: smtp://127.0.0.1:${sinkPort}
web: { listen: "127.0.0.1:${await freePort()}" }
milter: { enabled: false }
smtp:
  listeners:
    inbound: { listen: "127.0.0.1:${port}" }
    submission: { enabled: false }
    submissions: { enabled: false }
  limits: { max_connections_per_ip: 100 }
policy:
  filters:
    auth: { enabled: false }
    dkim_sign: { enabled: false }
    spam-classifier: { enabled: false }
tenants:
  - id: bench
    domains: [example.com]
    verify_recipients: false
`,
  );
  const child = spawn(
    process.execPath,
    [join(ROOT, "bin/sluice.js"), "serve", "--config", join(dir, "sluice.yaml")],
    {
      cwd: dir,
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  await waitPort(port);
  return { port, child, dir };
}

async function haraka(sinkPort: number): Promise<{ port: number; child: ChildProcess } | null> {
  const prefix = join(ROOT, ".bench/haraka");
  const bin = join(prefix, "node_modules/.bin/haraka");
  if (!existsSync(bin)) {
    mkdirSync(prefix, { recursive: true });
    try {
      await run("npm", ["install", "--prefix", prefix, "--no-audit", "--no-fund", "Haraka"], {
        maxBuffer: 1 << 24,
      });
    } catch (err) {
      console.error(`(d) skipped: could not install Haraka: ${(err as Error).message.split("\n")[0]}`);
      return null;
    }
  }
  const dir = mkdtempSync(join(tmpdir(), "haraka-bench-"));
  rmSync(dir, { recursive: true });
  await run(process.execPath, [bin, "-i", dir]);
  const port = await freePort();
  writeFileSync(join(dir, "config/smtp.ini"), `listen=127.0.0.1:${port}\nnodes=1\n`);
  writeFileSync(join(dir, "config/plugins"), "rcpt_to.in_host_list\nqueue/smtp_forward\n");
  writeFileSync(join(dir, "config/host_list"), "example.com\n");
  writeFileSync(join(dir, "config/smtp_forward.ini"), `host=127.0.0.1\nport=${sinkPort}\nenable_tls=false\n`);
  writeFileSync(join(dir, "config/log.ini"), "[main]\nlevel=warn\n");
  const child = spawn(process.execPath, [bin, "-c", dir], { stdio: "ignore" });
  await waitPort(port);
  return { port, child };
}

const results: Record<string, number> = {};
let sluiceRss = 0;
const sink = await startSink();
try {
  if (args.only.includes("a")) results.a = await source(sink.port);
  if (args.only.includes("b")) {
    const pf = await startPostfix({
      sinkPort: sink.port,
      extra: ["smtpd_client_connection_count_limit = 100"],
    });
    try {
      results.b = await source(pf.smtpPort);
    } finally {
      await pf.stop();
    }
  }
  if (args.only.includes("c")) {
    const s = await sluice(sink.port);
    try {
      results.c = await source(s.port);
      sluiceRss = peakRss(s.child.pid!);
    } finally {
      s.child.kill("SIGTERM");
    }
  }
  if (args.only.includes("d")) {
    const h = await haraka(sink.port);
    if (h) {
      try {
        results.d = await source(h.port);
      } finally {
        h.child.kill("SIGTERM");
      }
    }
  }
} finally {
  sink.child.kill("SIGTERM");
}

const fmt = (x: number | undefined) => (x === undefined ? "-" : x.toFixed(0));
const ratio = (x?: number, y?: number) => (x && y ? (x / y).toFixed(2) : "-");
console.log(
  `\nsmtp-source: ${N} messages of ${args.size} bytes over ${args.sessions} sessions; ${availableParallelism()} CPUs shared by all processes`,
);
console.log("| run | msgs/s |");
console.log("|---|---|");
console.log(`| (a) smtp-source → smtp-sink | ${fmt(results.a)} |`);
console.log(`| (b) → Postfix smtpd → sink | ${fmt(results.b)} |`);
console.log(`| (c) → Sluice proxy (cheap filters) → sink | ${fmt(results.c)} |`);
console.log(`| (d) → Haraka (smtp_forward) → sink | ${fmt(results.d)} |`);
console.log(
  `\nc/a = ${ratio(results.c, results.a)}   c/b = ${ratio(results.c, results.b)}   c/d = ${ratio(results.c, results.d)}   Sluice peak RSS = ${sluiceRss} MiB`,
);
