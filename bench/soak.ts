// Soak benchmark: a `sluice serve` node (child process) under mixed proxy and milter traffic
// for --minutes, 5% of it malformed (bare LF, NUL, over-long lines, junk commands, cut
// connections, broken milter packets). Every --interval seconds it samples the node's RSS, V8
// heap, open file descriptors and the window's p99 latency; at the end it prints the slope of
// each (least squares, per hour) and the samples as CSV. A leak shows as a slope that does not
// flatten; heap against RSS tells a JavaScript leak from native memory (SQLite, buffers).
//   npm run bench:soak -- [--minutes 60] [--interval 10] [--smtp 4] [--milter 2] [--csv FILE]
// Loopback only; needs nothing but Node (the next hop is an in-process sink).
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { parseArgs } from "node:util";
import { SmtpSink } from "../test/helpers/sink.ts";
import { freePort } from "../test/helpers/ports.ts";
import { mta, TestMta } from "../test/helpers/milter-mta.ts";
import { Cmd, Proto } from "../src/milter/constants.ts";

const { values: args } = parseArgs({
  options: {
    minutes: { type: "string", default: "60" },
    interval: { type: "string", default: "10" },
    smtp: { type: "string", default: "4" },
    milter: { type: "string", default: "2" },
    csv: { type: "string" },
  },
});
const minutes = Number(args.minutes);
const intervalMs = Number(args.interval) * 1000;
const MALFORMED = 0.05;

const root = new URL("..", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "sluice-soak-"));
const sink = new SmtpSink(false);
await sink.start();
const milterPort = await freePort();
const webPort = await freePort();
const config = join(dir, "soak.yaml");
writeFileSync(
  config,
  `store: sqlite:${dir}/store.db
log: { level: info }
web: { listen: "127.0.0.1:${webPort}" }
spool: { dir: ${dir}/spool }
delivery: smtp://127.0.0.1:${sink.port}
smtp:
  hostname: soak.test
  listeners: { inbound: { listen: "127.0.0.1:0" }, submission: { enabled: false }, submissions: { enabled: false } }
  limits: { max_connections_per_ip: 1000, command_timeout_s: 10, data_timeout_s: 10 }
milter: { listen: ["inet:127.0.0.1:${milterPort}"], progress_interval_ms: 0 }
limits: { message_bytes: 2000000 }
policy:
  thresholds: { tag: 5, quarantine: 10, reject: 20 }
  filters: { auth: { enabled: false } }
tenants:
  - id: example
    domains: [example.com]
    users: [{ address: alice@example.com, spam_filter: true }, { address: bob@example.com, spam_filter: false }]
`,
);

// The node: the real command.
const node = spawn(process.execPath, [join(root, "bin/sluice.js"), "serve", "-c", config], {
  cwd: dir,
  stdio: ["ignore", "pipe", "inherit"],
});
process.on("exit", () => node.kill("SIGKILL"));
let out = "";
node.stdout!.on("data", (d) => (out += d));
let smtpPort = 0;
for (const until = Date.now() + 30_000; !smtpPort;) {
  const m = /"listener":"inbound","address":"127\.0\.0\.1:(\d+)"/.exec(out);
  if (m && out.includes('"msg":"ready"')) smtpPort = Number(m[1]);
  else if (node.exitCode !== null || Date.now() > until) throw new Error(`node did not start:\n${out}`);
  else await new Promise((r) => setTimeout(r, 100));
}
// The per-message log lines are not needed here: read and drop them.
node.stdout!.removeAllListeners("data");
node.stdout!.resume();

// ---------- traffic ----------

let latencies: number[] = [];
const counts: Record<string, number> = {};
const note = (k: string) => (counts[k] = (counts[k] ?? 0) + 1);
let running = true;
let seq = 0;

function message(i: number, size: number): string {
  const line = "The quick brown fox jumps over the lazy dog. ".repeat(2) + "\r\n";
  return (
    `From: <sender${i % 50}@remote.test>\r\nTo: <alice@example.com>\r\nSubject: soak ${i}\r\n` +
    `Message-ID: <soak-${i}@remote.test>\r\n\r\n${line.repeat(Math.max(1, Math.floor(size / line.length)))}`
  );
}

/** A raw SMTP dialog; returns the reply to the final dot (or what went wrong). */
function smtpDialog(lines: string[], timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(smtpPort, "127.0.0.1");
    let buf = "";
    let sent = false;
    const done = (r: string) => {
      clearTimeout(t);
      s.destroy();
      resolve(r);
    };
    const t = setTimeout(() => done("timeout"), timeoutMs);
    s.setEncoding("latin1");
    s.on("error", () => done("socket error"));
    s.on("data", (d: string) => {
      buf += d;
      if (!sent && buf.includes("220 ")) {
        sent = true;
        s.write(lines.join(""));
      }
      const replies = buf.match(/^\d{3} [^\r\n]*\r\n/gm) ?? [];
      // 220, EHLO's last line, MAIL, RCPT, DATA(354) and then the final one.
      if (replies.length >= 6) done(replies[5]!.slice(0, 3));
    });
    s.on("close", () => done("closed"));
  });
}

async function smtpOne(): Promise<void> {
  const i = ++seq;
  const body = message(i, 2000 + (i % 7) * 3000).replace(/\r\n\.?/g, "\r\n");
  const head = [
    "EHLO soak.test\r\n",
    "MAIL FROM:<s@remote.test>\r\n",
    `RCPT TO:<${i % 2 ? "alice" : "bob"}@example.com>\r\n`,
    "DATA\r\n",
  ];
  if (Math.random() < MALFORMED) {
    const kind = i % 6;
    const bad = [
      () => smtpDialog([...head, body.replace("\r\n\r\n", "\r\n\n"), "\r\n.\r\n"]), // bare LF
      () => smtpDialog([...head, body.replace("quick", "qu\0ick"), "\r\n.\r\n"]), // NUL
      () => smtpDialog([...head, "X-Long: " + "y".repeat(200_000) + "\r\n" + body, "\r\n.\r\n"]), // long line
      () =>
        smtpDialog(
          [
            "EHLO " + "z".repeat(5000) + "\r\n",
            "FOO bar\r\n",
            "MAIL FROM:<<>>\r\n",
            "RCPT TO:x\r\n",
            "DATA\r\n",
            "QUIT\r\n",
          ],
          5000,
        ),
      () => smtpDialog([...head, body.slice(0, 500)], 300), // cut off mid-DATA
      () => smtpDialog(["\x16\x03\x01\x00\xa5garbage\r\n", "QUIT\r\n"], 3000), // TLS to a plain port
    ][kind]!;
    note(`smtp malformed ${await bad()}`);
    return;
  }
  const t0 = performance.now();
  const r = await smtpDialog([...head, body, "\r\n.\r\n", "QUIT\r\n"]);
  latencies.push(performance.now() - t0);
  note(`smtp ${r}`);
}

async function milterOne(): Promise<void> {
  const i = ++seq;
  let c: TestMta | null = null;
  const t0 = performance.now();
  try {
    c = await TestMta.open(milterPort);
    c.send(mta.optneg());
    // The milter may negotiate "no reply" for stages no filter hooks: wait only where it answers.
    const proto = (await c.next())!.data.readUInt32BE(8);
    const step = async (nr: number, ...p: Buffer[]) => {
      c!.send(...p);
      if (!(proto & nr)) await c!.untilFinal();
    };
    if (Math.random() < MALFORMED) {
      const junk = [
        Buffer.from([0, 0, 0, 0, 0x43]), // zero length
        Buffer.from([0x7f, 0xff, 0xff, 0xff, 0x42]), // 2 GB packet
        mta.body("out of order"),
        Buffer.from("not a milter packet at all"),
      ][i % 4]!;
      c.send(junk);
      note(`milter malformed ${(await c.waitClosed(3000)) ? "closed" : "open"}`);
      return;
    }
    await step(Proto.NR_CONN, mta.connect("client.test", "4", 4000, "192.0.2.1"));
    await step(Proto.NR_HELO, mta.helo("client.test"));
    await step(Proto.NR_MAIL, mta.macro(Cmd.MAIL, { i: `Q${i}` }), mta.mail("<s@remote.test>"));
    await step(Proto.NR_RCPT, mta.rcpt(`<${i % 2 ? "alice" : "bob"}@example.com>`));
    const msg = message(i, 3000);
    const sep = msg.indexOf("\r\n\r\n");
    for (const f of msg.slice(0, sep).split("\r\n")) {
      const k = f.indexOf(":");
      await step(Proto.NR_HDR, mta.header(f.slice(0, k), f.slice(k + 2)));
    }
    await step(Proto.NR_EOH, mta.eoh());
    await step(Proto.NR_BODY, mta.body(msg.slice(sep + 4)));
    c.send(mta.eom());
    const final = (await c.untilFinal(20_000)).pop()!;
    latencies.push(performance.now() - t0);
    note(`milter ${final.code}`);
    c.send(mta.quit());
  } catch (err) {
    note(`milter error ${(err as Error).message.slice(0, 40)}`);
  } finally {
    c?.close();
  }
}

const workers = [
  ...Array.from({ length: Number(args.smtp) }, async () => {
    while (running) await smtpOne();
  }),
  ...Array.from({ length: Number(args.milter) }, async () => {
    while (running) await milterOne();
  }),
];

// ---------- sampling ----------

interface Sample {
  t: number;
  rssMb: number;
  /** V8 heap in use (the node's /metrics): separates a JS leak from native memory. */
  heapMb: number;
  fds: number;
  p99Ms: number;
  done: number;
}
const samples: Sample[] = [];
const t0 = Date.now();
const rssOf = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
const fdsOf = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
async function heapOf(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${webPort}/metrics`)).text();
  return Number(/^sluice_nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? NaN) / 1048576;
}
function p99(xs: number[]): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))]!;
}
console.log(`soak: ${minutes} min, sample every ${intervalMs / 1000} s; node pid ${node.pid}; ${dir}`);
console.log("   t_s   rss_mb  heap_mb   fds   p99_ms   done");
while (Date.now() - t0 < minutes * 60_000) {
  await new Promise((r) => setTimeout(r, Math.min(intervalMs, minutes * 60_000 - (Date.now() - t0))));
  const s: Sample = {
    t: (Date.now() - t0) / 1000,
    rssMb: rssOf(node.pid!),
    heapMb: await heapOf().catch(() => NaN),
    fds: fdsOf(node.pid!),
    p99Ms: p99(latencies),
    done: latencies.length,
  };
  latencies = [];
  samples.push(s);
  console.log(
    `${s.t.toFixed(0).padStart(6)} ${s.rssMb.toFixed(1).padStart(8)} ${s.heapMb.toFixed(1).padStart(8)} ${String(s.fds).padStart(5)} ${s.p99Ms.toFixed(1).padStart(8)} ${String(s.done).padStart(6)}`,
  );
}
running = false;
await Promise.all(workers);
node.kill("SIGTERM");
await new Promise((r) => node.once("exit", r));
await sink.stop();

/** Least-squares slope of a sampled value over time, per hour. */
function slope(points: Sample[], y: (s: Sample) => number): number {
  const n = points.length;
  if (n < 2) return 0;
  const ts = points.map((s) => s.t / 3600);
  const ys = points.map(y);
  const mt = ts.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (ts[i]! - mt) * (ys[i]! - my);
    den += (ts[i]! - mt) ** 2;
  }
  return den ? num / den : 0;
}
// The first fifth of the run (at least one sample) is warm-up: JIT, caches, pools, V8 growing
// its heap to its working size. Slopes use the rest when there are enough samples.
const warm = Math.max(intervalMs / 1000, (minutes * 60) / 5);
const steady = samples.filter((s) => s.t > warm).length > 2 ? samples.filter((s) => s.t > warm) : samples;
console.log(`\noutcomes: ${JSON.stringify(counts)}`);
console.log(
  `slopes (per hour, from ${steady.length} samples after warm-up): rss ${slope(steady, (s) => s.rssMb).toFixed(1)} MB/h, ` +
    `heap ${slope(steady, (s) => s.heapMb).toFixed(1)} MB/h, ` +
    `fds ${slope(steady, (s) => s.fds).toFixed(1)} /h, p99 ${slope(steady, (s) => s.p99Ms).toFixed(1)} ms/h; ` +
    `sink received ${sink.count} messages`,
);
const csv = [
  "t_s,rss_mb,heap_mb,fds,p99_ms,done",
  ...samples.map(
    (s) =>
      `${s.t.toFixed(1)},${s.rssMb.toFixed(1)},${s.heapMb.toFixed(1)},${s.fds},${s.p99Ms.toFixed(1)},${s.done}`,
  ),
].join("\n");
console.log(`\n${csv}`);
if (args.csv) writeFileSync(args.csv, csv + "\n");
