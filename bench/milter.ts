// Benchmark: smtp-source → private Postfix → smtp-sink, (a) without a milter, (b) with Sluice's
// milter running the cheap filters (size, header sanity, lists), (c) with Sluice's full
// pipeline (src/runtime.ts: SPF/DKIM/DMARC against a local dnsmasq, the spam classifier, the
// Sieve script examples/sieve/spam-subject-tag.sieve), (d) with Rspamd's milter (proxy worker,
// self-scan, network checks off). Extra rows on request: (p) a pass-through Session, (r) the
// protocol floor. Prints msgs/s, b/a, c/a, c/d and the milter's peak RSS. Not part of `npm test`.
//   node bench/milter.ts [--messages 10000] [--sessions 20] [--size 20480] [--only abcd] [--only abcdpr]
// Needs root and the Debian packages postfix (smtp-source, smtp-sink), dnsmasq-base, rspamd, redis-server.
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { parseArgs, promisify } from "node:util";
import { availableParallelism } from "node:os";
import { pino } from "pino";
import { createServer } from "node:net";
import { MilterServer } from "../src/milter/server.ts";
import { decodeCommand } from "../src/milter/commands.ts";
import { FrameReader } from "../src/milter/framing.ts";
import { negotiate, noReplyFlag } from "../src/milter/negotiation.ts";
import { encodeReply } from "../src/milter/replies.ts";
import { FakeSession } from "../src/milter/fake-session.ts";
import type { Session } from "../src/pipeline/session.ts";
import { fileURLToPath } from "node:url";
import { startPostfix } from "../test/helpers/postfix.ts";
import { freePort } from "../test/helpers/ports.ts";
import { startDnsmasq, type Dnsmasq } from "../test/helpers/dns.ts";
import { rspamdMilterMissing, startRspamdMilter, type RspamdMilter } from "../test/helpers/rspamd-milter.ts";

const run = promisify(execFile);
const { values: args } = parseArgs({
  options: {
    messages: { type: "string", default: "10000" },
    sessions: { type: "string", default: "20" },
    size: { type: "string", default: "20480" },
    serve: { type: "string" },
    mode: { type: "string", default: "pass" },
    dns: { type: "string", default: "" },
    only: { type: "string", default: "abcd" },
  },
});

type Mode = "pass" | "cheap" | "full" | "raw";

const SIEVE = fileURLToPath(new URL("../examples/sieve/spam-subject-tag.sieve", import.meta.url));

if (args.serve && args.mode === "raw") await serveRaw(Number(args.serve));
else if (args.serve) await serveMilter(Number(args.serve), args.mode as Mode, args.dns);
else await main();

/**
 * (b) and (c). Nothing is quarantined or rejected (thresholds tag only), so every message is
 * delivered and the run measures scanning, not the store.
 */
function benchConfig(mode: "cheap" | "full", dns: string): string {
  const filters =
    mode === "cheap"
      ? `    auth: { enabled: false }
    dkim_sign: { enabled: false }
    spam-classifier: { enabled: false }
    sieve: { enabled: false }`
      : `    auth: { options: { dns: { servers: ["${dns}"], timeout_ms: 1000 } } }
    sieve: { options: { inbound: [${JSON.stringify(SIEVE)}] } }`;
  return `
node: { name: bench }
store: sqlite:/nonexistent/never-opened.db
delivery: smtp://127.0.0.1:9
policy:
  thresholds: { tag: 5, quarantine: null, reject: null }
  filters:
${filters}
tenants:
  - id: sink
    domains: [sink.test]
    users:
      - { address: to@sink.test, spam_filter: true }
`;
}

interface ChildStats {
  maxRssKiB: number;
  cpuSeconds: number;
  messages?: number;
  /** Messages on which each filter ran (from the verdict trace), and symbols seen. */
  filters?: Record<string, number>;
  symbols?: Record<string, number>;
  /** Session.data() wall time per message (ms). */
  dataMs?: { mean: number; p99: number };
  /** Other Session calls: total wall time per message (ms). */
  callMs?: Record<string, number>;
}

/** Child mode: run only the milter server, so its RSS is measured alone. */
async function serveMilter(port: number, mode: Mode, dns: string): Promise<void> {
  let newSession: () => Session = () => new FakeSession({}, false);
  let close = async () => undefined as void;
  const seen = {
    messages: 0,
    filters: {} as Record<string, number>,
    symbols: {} as Record<string, number>,
    dataMs: [] as number[],
    callMs: {} as Record<string, number>,
  };
  if (mode === "cheap" || mode === "full") {
    const { Runtime } = await import("../src/runtime.ts");
    const rt = await Runtime.create({
      configText: benchConfig(mode, dns),
      store: "never",
      logger: pino({ level: "warn" }),
    });
    newSession = () => {
      const s = rt.newSession();
      // Wall time of every other Session call, to place the cost outside data().
      for (const m of ["connect", "helo", "mail", "rcpt", "reset", "close"] as const) {
        const f = (s[m] as (...a: unknown[]) => Promise<unknown>).bind(s);
        (s as unknown as Record<string, unknown>)[m] = async (...a: unknown[]) => {
          const t0 = performance.now();
          try {
            return await f(...a);
          } finally {
            seen.callMs[m] = (seen.callMs[m] ?? 0) + performance.now() - t0;
          }
        };
      }
      const data = s.data.bind(s);
      // Record which filters ran, so the table shows the pipeline really did its work.
      s.data = async () => {
        const t0 = performance.now();
        const r = await data();
        seen.dataMs.push(performance.now() - t0);
        seen.messages++;
        const v = r.verdicts[0];
        for (const t of v?.trace ?? []) {
          if ("ran" in t && t.ran) seen.filters[t.filter] = (seen.filters[t.filter] ?? 0) + 1;
        }
        for (const h of v?.symbols ?? []) seen.symbols[h.name] = (seen.symbols[h.name] ?? 0) + 1;
        return r;
      };
      return s;
    };
    close = () => rt.close();
  }
  const server = new MilterServer({
    newSession,
    commit: async () => [],
    logger: pino({ level: "warn" }),
  });
  await server.listen(`inet:127.0.0.1:${port}`);
  process.stdout.write("ready\n");
  process.stdin.resume();
  process.stdin.on("end", async () => {
    await server.close();
    await close();
    const u = process.resourceUsage();
    const cpuSeconds = (u.userCPUTime + u.systemCPUTime) / 1e6;
    const ms = seen.dataMs.sort((x, y) => x - y);
    const stats: ChildStats = {
      maxRssKiB: u.maxRSS,
      cpuSeconds,
      messages: seen.messages,
      filters: seen.filters,
      symbols: seen.symbols,
      callMs: Object.fromEntries(
        Object.entries(seen.callMs).map(([k, v]) => [k, v / Math.max(1, seen.messages)]),
      ),
      dataMs: ms.length
        ? { mean: ms.reduce((x, y) => x + y, 0) / ms.length, p99: ms[Math.floor(ms.length * 0.99)]! }
        : undefined,
    };
    process.stdout.write(JSON.stringify(stats) + "\n");
    process.exit(0);
  });
}

/**
 * Child mode: the protocol floor. Same codec and negotiation, but no Session, no message intake:
 * every command that expects a reply gets CONTINUE at once. Shows what the round trips cost.
 */
async function serveRaw(port: number): Promise<void> {
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    const reader = new FrameReader();
    let protocol = 0;
    socket.on("error", () => undefined);
    socket.on("data", (chunk: Buffer) => {
      const out: Buffer[] = [];
      for (const f of reader.push(chunk)) {
        const cmd = decodeCommand(f);
        if (cmd.type === "optneg") {
          const n = negotiate(cmd);
          protocol = n.protocol;
          reader.maxData = n.maxData;
          out.push(encodeReply({ type: "optneg", ...n }));
        } else if (cmd.type === "quit") socket.end();
        else if (
          cmd.type === "eom" ||
          (noReplyFlag(cmd.type) !== 0 && (protocol & noReplyFlag(cmd.type)) === 0)
        ) {
          out.push(encodeReply({ type: "continue" }));
        }
      }
      if (out.length) socket.write(Buffer.concat(out));
    });
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  process.stdout.write("ready\n");
  process.stdin.resume();
  process.stdin.on("end", () => {
    const u = process.resourceUsage();
    process.stdout.write(
      JSON.stringify({ maxRssKiB: u.maxRSS, cpuSeconds: (u.userCPUTime + u.systemCPUTime) / 1e6 }) + "\n",
    );
    process.exit(0);
  });
}

interface Result {
  key: string;
  label: string;
  seconds: number;
  rate: number;
  delivered: number;
  /** Peak RSS of the milter: Sluice's one process; Rspamd's processes summed (shared pages counted in each). */
  rssMiB: number | null;
  /** CPU time of the milter process per message (ms); Sluice only. */
  cpuMsPerMsg: number | null;
  note: string;
}

type Scenario = readonly [key: string, label: string, milter: Mode | "rspamd" | null];

async function main(): Promise<void> {
  const n = Number(args.messages);
  const sessions = Number(args.sessions);
  const size = Number(args.size);
  console.log(`smtp-source: ${n} messages, ${sessions} sessions, ${size} bytes each`);
  const all: Scenario[] = [
    ["a", "a) Postfix, no milter", null],
    ["r", "r) Postfix + protocol floor (codec only, CONTINUE to all)", "raw"],
    ["p", "p) Postfix + Sluice milter, pass-through Session", "pass"],
    ["b", "b) Postfix + Sluice milter, cheap filters", "cheap"],
    ["c", "c) Postfix + Sluice milter, full pipeline", "full"],
    ["d", "d) Postfix + Rspamd milter (proxy, self-scan)", "rspamd"],
  ];
  const chosen = all.filter(([key]) => key === "a" || args.only.includes(key));
  if (chosen.some(([k]) => k === "d") && rspamdMilterMissing()) {
    throw new Error(`(d) needs Rspamd: ${rspamdMilterMissing()}`);
  }
  // The sender domain's SPF and DMARC records for (c); smtp-source connects from 127.0.0.1.
  let dns: Dnsmasq | null = null;
  if (chosen.some(([k]) => k === "c")) {
    dns = await startDnsmasq({
      domains: ["bench.test"],
      txt: { "bench.test": "v=spf1 ip4:127.0.0.0/8 -all", "_dmarc.bench.test": "v=DMARC1; p=none" },
    });
  }
  const results: Result[] = [];
  try {
    for (const [key, label, mode] of chosen) {
      results.push(await scenario(key, label, n, sessions, size, mode, dns?.server ?? ""));
    }
  } finally {
    await dns?.close();
  }
  const rate = (k: string) => results.find((r) => r.key === k)?.rate;
  const base = rate("a")!;
  console.log("");
  console.log(
    "scenario".padEnd(56) + "msgs/s".padStart(9) + "  ratio/a" + "    delivered" + "  peak RSS   cpu/msg",
  );
  for (const r of results) {
    console.log(
      r.label.padEnd(56) +
        r.rate.toFixed(1).padStart(9) +
        (r.rate / base).toFixed(2).padStart(9) +
        `${r.delivered}/${n}`.padStart(13) +
        (r.rssMiB === null ? "  -".padEnd(11) : `  ${r.rssMiB.toFixed(0)} MiB`.padEnd(11)) +
        (r.cpuMsPerMsg === null ? "  -" : `  ${r.cpuMsPerMsg.toFixed(2)} ms`),
    );
  }
  console.log("");
  const ratio = (x: string, y: string, goal: string) => {
    const a = rate(x);
    const b = rate(y);
    console.log(
      `${x}/${y} = ${a && b ? (a / b).toFixed(2) : "n/a (not run)"}` + (goal ? `   (goal ${goal})` : ""),
    );
  };
  ratio("b", "a", ">= 0.85");
  ratio("c", "a", "");
  ratio("c", "d", ">= 1.5");
  for (const r of results) if (r.note) console.log(`${r.key}: ${r.note}`);
  console.log(
    `machine: ${availableParallelism()} CPUs; Postfix, smtp-source, smtp-sink and the milter share them.`,
  );
}

async function scenario(
  key: string,
  label: string,
  n: number,
  sessions: number,
  size: number,
  milter: Mode | "rspamd" | null,
  dns: string,
): Promise<Result> {
  const sinkPort = await freePort();
  const sink = spawn("/usr/sbin/smtp-sink", ["-u", "postfix", `127.0.0.1:${sinkPort}`, "1000"], {
    stdio: "ignore",
  });
  let child: ChildProcess | null = null;
  let rspamd: RspamdMilter | null = null;
  let milterSpec: string | undefined;
  let pf: Awaited<ReturnType<typeof startPostfix>> | null = null;
  try {
    if (milter === "rspamd") {
      rspamd = await startRspamdMilter();
      milterSpec = rspamd.milter;
    } else if (milter) {
      const port = await freePort();
      child = spawn(
        process.execPath,
        [import.meta.filename, "--serve", String(port), "--mode", milter, "--dns", dns],
        {
          stdio: ["pipe", "pipe", "inherit"],
        },
      );
      await new Promise<void>((resolve, reject) => {
        child!.stdout!.once("data", () => resolve());
        child!.once("exit", (code) => reject(new Error(`milter child exited with ${code}`)));
      });
      milterSpec = `inet:127.0.0.1:${port}`;
    }
    pf = await startPostfix({ sinkPort, milter: milterSpec });
    const t0 = process.hrtime.bigint();
    await run(
      "/usr/sbin/smtp-source",
      [
        "-s",
        String(sessions),
        "-m",
        String(n),
        "-l",
        String(size),
        "-f",
        "from@bench.test",
        "-t",
        "to@sink.test",
        `127.0.0.1:${pf.smtpPort}`,
      ],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const delivered = await waitDelivered(pf.maillog, n, 120_000);
    const rate = n / seconds;
    let rssMiB: number | null = null;
    let cpuMsPerMsg: number | null = null;
    let note = "";
    if (child) {
      const out = new Promise<string>((resolve) => {
        let buf = "";
        child!.stdout!.on("data", (d) => (buf += d));
        child!.once("exit", () => resolve(buf));
      });
      child.stdin!.end();
      const line = (await out).trim().split("\n").pop() ?? "{}";
      const stats = JSON.parse(line) as ChildStats;
      rssMiB = stats.maxRssKiB / 1024;
      cpuMsPerMsg = (stats.cpuSeconds * 1000) / n;
      if (stats.filters) {
        const f = Object.entries(stats.filters).map(([k, v]) => `${k} ${v}`);
        const top = Object.entries(stats.symbols ?? {})
          .sort((x, y) => y[1] - x[1])
          .slice(0, 8)
          .map(([k, v]) => `${k} ${v}`);
        const lat = stats.dataMs
          ? `; data() ${stats.dataMs.mean.toFixed(2)} ms mean, ${stats.dataMs.p99.toFixed(1)} ms p99`
          : "";
        const calls = Object.entries(stats.callMs ?? {})
          .map(([k, v]) => `${k} ${v.toFixed(2)}`)
          .join(", ");
        note = `${stats.messages} scanned${lat}; other calls ms/msg: ${calls}; filters ran: ${f.join(", ")}; symbols: ${top.join(", ") || "none"}`;
      }
    }
    if (rspamd) {
      const peak = rspamd.peakRssKiB();
      rssMiB = peak.rspamd / 1024;
      note =
        `${await rspamd.scanned()} scanned (controller /stat); peak RSS summed over ${peak.processes} ` +
        `Rspamd processes (max single ${(peak.maxSingle / 1024).toFixed(0)} MiB), PSS now ` +
        `${(rspamd.pssKiB() / 1024).toFixed(0)} MiB; Redis ${(peak.redis / 1024).toFixed(0)} MiB apart`;
    }
    const log = await pf.maillog();
    const milterLines = (log.match(/milter/g) ?? []).length;
    console.log(
      `${label}: ${seconds.toFixed(1)} s, ${rate.toFixed(1)} msgs/s, delivered ${delivered}/${n}` +
        (milter ? `, maillog milter lines ${milterLines}` : ""),
    );
    return { key, label, seconds, rate, delivered, rssMiB, cpuMsPerMsg, note };
  } finally {
    child?.kill();
    await pf?.stop();
    await rspamd?.close();
    sink.kill();
  }
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
