// Benchmark: smtp-source → private Postfix → smtp-sink, (a) without a milter, (r) with the bare
// protocol floor (codec and negotiation, CONTINUE to everything), (p) with Sluice's milter and a
// pass-through Session, (b) with the cheap filters (size, header sanity, lists), (c) with the full
// pipeline (src/runtime.ts: SPF/DKIM/DMARC against a local dnsmasq, the spam classifier, the Sieve
// script examples/sieve/spam-subject-tag.sieve), (d) with Rspamd's milter (proxy worker,
// self-scan, network checks off). All in one run, so ratios compare like with like; prints
// msgs/s, b/a, c/a, c/d, the CPU per message of each process and the milter's peak RSS.
// Not part of `npm test`. `--help` lists the options.
// Needs root and the Debian packages postfix (smtp-source, smtp-sink), dnsmasq-base, rspamd, redis-server.
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { tmpdir, availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs, promisify } from "node:util";
import { pino } from "pino";
import { startPostfix } from "../test/helpers/postfix.ts";
import { freePort } from "../test/helpers/ports.ts";
import { startDnsmasq, type Dnsmasq } from "../test/helpers/dns.ts";
import { rspamdMilterMissing, startRspamdMilter, type RspamdMilter } from "../test/helpers/rspamd-milter.ts";
import { benchConfig, type Mode, type ServeStats } from "./milter-serve.ts";
import { CpuMeter, parseTimes, peakRssKiB } from "./milter-procs.ts";
import { simulate } from "./milter-sim.ts";

const HELP = `npm run bench:milter -- [options]

  --messages N        messages per scenario (default 10000; 2000-3000 on a busy machine)
  --sessions N        parallel SMTP sessions, smtp-source -s (default 20)
  --size BYTES        message size (default 20480)
  --only KEYS         scenarios out of a r p b c d (default "abcdpr"; a always runs with --mta postfix)
                        a  Postfix, no milter          r  protocol floor (codec only)
                        p  Sluice, pass-through Session b  Sluice, cheap filters
                        c  Sluice, full pipeline        d  Rspamd's milter
  --runs N            repeat all scenarios N times; ratios per run, then their median (default 1)
  --mta postfix|sim   sim: no Postfix; a simulated Postfix 3.7 drives the milter directly, so the
                      milter's own CPU per message is measured without Postfix sharing the CPU
  --socket inet|unix  how Postfix reaches Sluice's milter (default inet)
  --macros sluice|postfix
                      sluice: the milter asks only for the macros it reads (SETSYMLIST, default);
                      postfix: it asks for none, so Postfix sends its main.cf milter_*_macros
  --postfix 'K = V'   extra main.cf line, repeatable, e.g. --postfix 'milter_protocol = 4'
  --answer STAGES     r and p: envelope stages that wait for a reply, e.g. mail,rcpt
                      (default: what (b)'s configuration may refuse)
  --cpu-prof DIR      a V8 CPU profile of every Sluice milter process, written into DIR
  --help              this text
`;

const { values: args } = parseArgs({
  options: {
    messages: { type: "string", default: "10000" },
    sessions: { type: "string", default: "20" },
    size: { type: "string", default: "20480" },
    only: { type: "string", default: "abcdpr" },
    runs: { type: "string", default: "1" },
    mta: { type: "string", default: "postfix" },
    socket: { type: "string", default: "inet" },
    macros: { type: "string", default: "sluice" },
    postfix: { type: "string", multiple: true, default: [] },
    answer: { type: "string" },
    "cpu-prof": { type: "string" },
    help: { type: "boolean", default: false },
  },
});

type Key = "a" | "r" | "p" | "b" | "c" | "d";
const SCENARIOS: readonly (readonly [Key, string, Mode | "rspamd" | null])[] = [
  ["a", "a) Postfix, no milter", null],
  ["r", "r) protocol floor (codec only, CONTINUE to all)", "raw"],
  ["p", "p) Sluice milter, pass-through Session", "pass"],
  ["b", "b) Sluice milter, cheap filters", "cheap"],
  ["c", "c) Sluice milter, full pipeline", "full"],
  ["d", "d) Rspamd milter (proxy, self-scan)", "rspamd"],
];

interface Result {
  key: Key;
  label: string;
  rate: number;
  delivered: number;
  /** Peak RSS of the milter: Sluice's one process; Rspamd's processes summed. */
  rssMiB: number | null;
  /** CPU ms per message: the milter, Postfix (all its processes), smtp-source, smtp-sink. */
  cpu: { milter: number | null; postfix: number | null; source: number | null; sink: number | null };
  note: string;
}

async function main(): Promise<void> {
  const n = Number(args.messages);
  const sessions = Number(args.sessions);
  const size = Number(args.size);
  const runs = Number(args.runs);
  const sim = args.mta === "sim";
  const chosen = SCENARIOS.filter(([key]) => (key === "a" && !sim) || args.only.includes(key));
  if (chosen.some(([k]) => k === "d") && rspamdMilterMissing()) {
    throw new Error(`(d) needs Rspamd: ${rspamdMilterMissing()}`);
  }
  // r and p wait for the same replies as (b), unless told otherwise.
  const answer = args.answer ?? (await cheapAnswer());
  console.log(
    `${sim ? "simulated Postfix" : "smtp-source"}: ${n} messages, ${sessions} sessions, ${size} bytes each; ` +
      `${runs} run(s); milter socket ${args.socket}, macros ${args.macros}; r/p wait at: ${answer || "nothing"}` +
      (args.postfix.length ? `; main.cf + ${args.postfix.join("; ")}` : ""),
  );
  // The sender domain's SPF and DMARC records for (c); smtp-source connects from 127.0.0.1.
  // "test" is served too, so that DMARC's look-up of _dmarc.test gets NXDOMAIN (cached, as from
  // any real resolver) rather than dnsmasq's REFUSED for a zone it does not know, which is a
  // server failure, never cached, and was a DNS query per message.
  let dns: Dnsmasq | null = null;
  if (chosen.some(([k]) => k === "c")) {
    dns = await startDnsmasq({
      domains: ["bench.test", "test"],
      txt: { "bench.test": "v=spf1 ip4:127.0.0.0/8 -all", "_dmarc.bench.test": "v=DMARC1; p=none" },
    });
  }
  let rspamd: RspamdMilter | null = null;
  const all: Result[][] = [];
  try {
    for (let run = 1; run <= runs; run++) {
      if (runs > 1) console.log(`\n--- run ${run} of ${runs} (load average ${loadavg()[0]!.toFixed(1)})`);
      const results: Result[] = [];
      for (const [key, label, mode] of chosen) {
        if (mode === "rspamd") rspamd ??= await startRspamdMilter();
        const ctx = { n, sessions, size, dns: dns?.server ?? "", answer, run, rspamd };
        results.push(sim ? await simScenario(key, label, mode, ctx) : await scenario(key, label, mode, ctx));
      }
      printRun(results, n);
      all.push(results);
    }
  } finally {
    await rspamd?.close();
    await dns?.close();
  }
  if (runs > 1) printSummary(all);
  console.log(
    `machine: ${availableParallelism()} CPUs, load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(" ")} ` + `at the end; Postfix, smtp-source, smtp-sink and the milter share them.`,
  );
}

/** The envelope stages (b)'s configuration may refuse, so r and p wait for the same replies. */
async function cheapAnswer(): Promise<string> {
  const { Runtime } = await import("../src/runtime.ts");
  const { stageNeeds } = await import("../src/pipeline/stage-needs.ts");
  const rt = await Runtime.create({
    configText: benchConfig("cheap", ""),
    store: "never",
    logger: pino({ level: "silent" }),
  });
  return [...stageNeeds(rt.registry.all(), rt.config).answer].join(",");
}

interface Ctx {
  n: number;
  sessions: number;
  size: number;
  dns: string;
  answer: string;
  run: number;
  rspamd: RspamdMilter | null;
}

/** Start Sluice's milter (or the floor) in its own process; resolves once it listens. */
async function startChild(key: Key, mode: Mode, ctx: Ctx): Promise<{ child: ChildProcess; spec: string }> {
  let spec: string;
  if (args.socket === "unix") {
    const dir = join(tmpdir(), "sluice-bench");
    mkdirSync(dir, { recursive: true });
    spec = `unix:${join(dir, `milter-${process.pid}-${key}.sock`)}`;
  } else spec = `inet:127.0.0.1:${await freePort()}`;
  const prof = args["cpu-prof"]
    ? [
        "--cpu-prof",
        "--cpu-prof-dir",
        args["cpu-prof"],
        "--cpu-prof-name",
        `milter-${key}-run${ctx.run}.cpuprofile`,
      ]
    : [];
  const child = spawn(
    process.execPath,
    [
      ...prof,
      join(import.meta.dirname, "milter-serve.ts"),
      ...[
        "--listen",
        spec,
        "--mode",
        mode,
        "--dns",
        ctx.dns,
        "--answer",
        ctx.answer,
        "--macros",
        args.macros,
      ],
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`milter child exited with ${code}`)));
  });
  // Postfix's smtpd runs as the postfix user.
  if (spec.startsWith("unix:")) chmodSync(spec.slice(5), 0o666);
  return { child, spec };
}

/** Ask the child for its stats (stdin closes), and wait for it to exit. */
async function stopChild(child: ChildProcess): Promise<ServeStats> {
  const out = new Promise<string>((resolve) => {
    let buf = "";
    child.stdout!.on("data", (d) => (buf += d));
    child.once("exit", () => resolve(buf));
  });
  child.stdin!.end();
  return JSON.parse((await out).trim().split("\n").pop() || "{}") as ServeStats;
}

function describe(stats: ServeStats): string {
  const f = Object.entries(stats.filters ?? {}).map(([k, v]) => `${k} ${v}`);
  const top = Object.entries(stats.symbols ?? {})
    .sort((x, y) => y[1] - x[1])
    .slice(0, 8)
    .map(([k, v]) => `${k} ${v}`);
  const lat = stats.dataMs
    ? `; data() ${stats.dataMs.mean.toFixed(2)} ms mean, ${stats.dataMs.p99.toFixed(1)} ms p99`
    : "";
  const waits = `waits at: ${stats.answer?.join(",") || "nothing"} + EOM`;
  if (!f.length) return waits;
  return `${stats.messages} scanned${lat}; ${waits}; filters ran: ${f.join(", ")}; symbols: ${top.join(", ") || "none"}`;
}

async function scenario(key: Key, label: string, mode: Mode | "rspamd" | null, ctx: Ctx): Promise<Result> {
  const sinkPort = await freePort();
  const sink = spawn("/usr/sbin/smtp-sink", ["-u", "postfix", `127.0.0.1:${sinkPort}`, "1000"], {
    stdio: "ignore",
  });
  let child: ChildProcess | null = null;
  let pf: Awaited<ReturnType<typeof startPostfix>> | null = null;
  try {
    let milterSpec: string | undefined;
    if (mode === "rspamd") milterSpec = ctx.rspamd!.milter;
    else if (mode) ({ child, spec: milterSpec } = await startChild(key, mode, ctx));
    pf = await startPostfix({ sinkPort, milter: milterSpec, extra: args.postfix });
    const masterPid = () => readPid(join(pf!.dir, "queue", "pid", "master.pid"));
    const milterPid = () => (mode === "rspamd" ? ctx.rspamd!.pid : (child?.pid ?? null));
    const meters = {
      milter: mode ? new CpuMeter(milterPid) : null,
      postfix: new CpuMeter(masterPid),
      sink: new CpuMeter(() => sink.pid ?? null),
    };
    const scannedBefore = mode === "rspamd" ? await ctx.rspamd!.scanned() : 0;
    for (const m of Object.values(meters)) m?.start();
    const t0 = process.hrtime.bigint();
    const source = await run(
      "/bin/sh",
      [
        "-c",
        '"$@"; s=$?; times >&2; exit $s',
        "sh",
        "/usr/sbin/smtp-source",
        ...["-s", String(ctx.sessions), "-m", String(ctx.n), "-l", String(ctx.size)],
        ...["-f", "from@bench.test", "-t", "to@sink.test", `127.0.0.1:${pf.smtpPort}`],
      ],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const delivered = await waitDelivered(pf.maillog, ctx.n, 120_000);
    const perMsg = (s: number) => (s * 1000) / ctx.n;
    const cpu = {
      milter: meters.milter ? perMsg(meters.milter.stop()) : null,
      postfix: perMsg(meters.postfix.stop()),
      source: perMsg(parseTimes(source.stderr)),
      sink: perMsg(meters.sink.stop()),
    };
    let rssMiB: number | null = null;
    let note = "";
    if (child) {
      rssMiB = peakRssKiB(child.pid!) / 1024;
      note = describe(await stopChild(child));
      child = null;
    }
    if (mode === "rspamd") {
      const peak = ctx.rspamd!.peakRssKiB();
      rssMiB = peak.rspamd / 1024;
      note =
        `${(await ctx.rspamd!.scanned()) - scannedBefore} scanned (controller /stat); peak RSS summed over ` +
        `${peak.processes} Rspamd processes (max single ${(peak.maxSingle / 1024).toFixed(0)} MiB), ` +
        `PSS now ${(ctx.rspamd!.pssKiB() / 1024).toFixed(0)} MiB; Redis ${(peak.redis / 1024).toFixed(0)} MiB apart`;
    }
    const rate = ctx.n / seconds;
    console.log(
      `${label}: ${seconds.toFixed(1)} s, ${rate.toFixed(1)} msgs/s, delivered ${delivered}/${ctx.n}`,
    );
    return { key, label, rate, delivered, rssMiB, cpu, note };
  } finally {
    if (child) await stopChild(child).catch(() => undefined);
    await pf?.stop();
    sink.kill();
  }
}

/** --mta sim: the simulated Postfix drives the milter; only the milter's cost is measured. */
async function simScenario(key: Key, label: string, mode: Mode | "rspamd" | null, ctx: Ctx): Promise<Result> {
  let child: ChildProcess | null = null;
  try {
    let spec: string;
    if (mode === "rspamd") spec = ctx.rspamd!.milter;
    else ({ child, spec } = await startChild(key, mode!, ctx));
    const target = spec.startsWith("unix:")
      ? { path: spec.slice(5) }
      : { port: Number(spec.split(":").pop()) };
    const meter = new CpuMeter(() => (mode === "rspamd" ? ctx.rspamd!.pid : (child?.pid ?? null)));
    meter.start();
    const r = await simulate(target, ctx.n, ctx.sessions, ctx.size);
    const milter = (meter.stop() * 1000) / ctx.n;
    let rssMiB: number | null = null;
    let note = r.refused ? `${r.refused} messages not accepted` : "";
    if (child) {
      rssMiB = peakRssKiB(child.pid!) / 1024;
      note = [note, describe(await stopChild(child))].filter(Boolean).join("; ");
      child = null;
    } else if (mode === "rspamd") rssMiB = ctx.rspamd!.peakRssKiB().rspamd / 1024;
    const rate = r.messages / r.seconds;
    console.log(`${label}: ${r.seconds.toFixed(1)} s, ${rate.toFixed(1)} msgs/s (simulated MTA)`);
    return {
      key,
      label,
      rate,
      delivered: r.messages - r.refused,
      rssMiB,
      cpu: { milter, postfix: null, source: null, sink: null },
      note,
    };
  } finally {
    if (child) await stopChild(child).catch(() => undefined);
  }
}

const ms = (x: number | null) => (x === null ? "-" : x.toFixed(2));

function printRun(results: Result[], n: number): void {
  const base = results.find((r) => r.key === "a")?.rate;
  console.log("");
  console.log(
    "scenario".padEnd(50) +
      "msgs/s".padStart(8) +
      "  /a".padStart(6) +
      "delivered".padStart(12) +
      "  peak RSS" +
      "   CPU ms/msg: milter postfix source sink  total",
  );
  for (const r of results) {
    const total = [r.cpu.milter, r.cpu.postfix, r.cpu.source, r.cpu.sink].reduce<number>(
      (s, x) => s + (x ?? 0),
      0,
    );
    console.log(
      r.label.padEnd(50) +
        r.rate.toFixed(1).padStart(8) +
        (base ? (r.rate / base).toFixed(2) : "-").padStart(6) +
        `${r.delivered}/${n}`.padStart(12) +
        (r.rssMiB === null ? "-" : `${r.rssMiB.toFixed(0)} MiB`).padStart(10) +
        ms(r.cpu.milter).padStart(20) +
        ms(r.cpu.postfix).padStart(8) +
        ms(r.cpu.source).padStart(7) +
        ms(r.cpu.sink).padStart(5) +
        total.toFixed(2).padStart(7),
    );
  }
  console.log("");
  for (const [x, y, goal] of RATIOS) {
    const byCpu = cpuRatio(results, x, y);
    console.log(
      `${x}/${y} = ${fmt(ratio(results, x, y))}${goal ? `   (goal ${goal})` : ""}` +
        (byCpu === null ? "" : `   by CPU per message: ${fmt(byCpu)}`),
    );
  }
  for (const r of results) if (r.note) console.log(`${r.key}: ${r.note}`);
}

const RATIOS: readonly (readonly [Key, Key, string])[] = [
  ["b", "a", ">= 0.85"],
  ["c", "a", ""],
  ["c", "d", ">= 1.5"],
  ["p", "a", ""],
  ["r", "a", ""],
];

/**
 * y's CPU per message over x's, all processes counted: the throughput ratio to expect when the
 * CPUs are the only limit (a busy machine's throughput ratios scatter far more).
 */
function cpuRatio(results: Result[], x: Key, y: Key): number | null {
  const total = (k: Key) => {
    const r = results.find((q) => q.key === k);
    if (!r || r.cpu.postfix === null) return null;
    return [r.cpu.milter, r.cpu.postfix, r.cpu.source, r.cpu.sink].reduce<number>((s, v) => s + (v ?? 0), 0);
  };
  const a = total(x);
  const b = total(y);
  return a && b ? b / a : null;
}

function ratio(results: Result[], x: Key, y: Key): number | null {
  const a = results.find((r) => r.key === x)?.rate;
  const b = results.find((r) => r.key === y)?.rate;
  return a && b ? a / b : null;
}

const fmt = (v: number | null) => (v === null ? "n/a" : v.toFixed(2));

function printSummary(all: Result[][]): void {
  console.log(`\n=== ${all.length} runs`);
  for (const [x, y, goal] of RATIOS) {
    const v = all.map((rs) => ratio(rs, x, y));
    if (v.every((r) => r === null)) continue;
    const ok = v.filter((r): r is number => r !== null).sort((p, q) => p - q);
    const median = ok[Math.floor((ok.length - 1) / 2)] ?? null;
    const c = all.map((rs) => cpuRatio(rs, x, y)).filter((r): r is number => r !== null);
    const cpu = c.length ? `;  by CPU per message: ${c.map(fmt).join("  ")}` : "";
    console.log(
      `${x}/${y}: ${v.map(fmt).join("  ")}   median ${fmt(median)}${goal ? `   (goal ${goal})` : ""}${cpu}`,
    );
  }
}

function readPid(path: string): number | null {
  if (!existsSync(path)) return null;
  const pid = Number(readFileSync(path, "utf8").trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

function run(
  file: string,
  argv: string[],
  opts: { maxBuffer: number },
): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(file, argv, opts);
}

/** Count "status=sent" in Postfix's log until all messages are out (or the time is up). */
async function waitDelivered(maillog: () => Promise<string>, n: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const sent = ((await maillog()).match(/status=sent/g) ?? []).length;
    if (sent >= n || Date.now() > deadline) return sent;
    await new Promise((r) => setTimeout(r, 500));
  }
}

if (args.help) process.stdout.write(HELP);
else await main();
