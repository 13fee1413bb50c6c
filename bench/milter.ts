// Benchmark: smtp-source → private Postfix → smtp-sink, (a) without a milter, (b) with Sluice's
// milter server and a pass-through Session, (c) with the real pipeline (src/runtime.ts).
// Prints msgs/s, the ratio to (a) and the milter process's peak RSS. Not part of `npm test`.
//   node bench/milter.ts [--messages 10000] [--sessions 20] [--size 20480] [--only rbc]
// Needs root and the Debian package `postfix` (smtp-source and smtp-sink come with it).
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
import { startPostfix } from "../test/helpers/postfix.ts";
import { freePort } from "../test/helpers/ports.ts";

const run = promisify(execFile);
const { values: args } = parseArgs({
  options: {
    messages: { type: "string", default: "10000" },
    sessions: { type: "string", default: "20" },
    size: { type: "string", default: "20480" },
    serve: { type: "string" },
    pipeline: { type: "boolean", default: false },
    raw: { type: "boolean", default: false },
    only: { type: "string" },
  },
});

if (args.serve && args.raw) await serveRaw(Number(args.serve));
else if (args.serve) await serveMilter(Number(args.serve), args.pipeline);
else await main();

/** Child mode: run only the milter server, so its RSS is measured alone. */
async function serveMilter(port: number, realPipeline: boolean): Promise<void> {
  let newSession: () => Session = () => new FakeSession({}, false);
  let close = async () => undefined as void;
  if (realPipeline) {
    const { Runtime } = await import("../src/runtime.ts");
    const rt = await Runtime.create({ store: "never", logger: pino({ level: "warn" }) });
    newSession = () => rt.newSession();
    close = () => rt.close();
  }
  const server = new MilterServer({
    newSession,
    storeGroup: async () => undefined,
    reinject: async () => undefined,
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
    process.stdout.write(JSON.stringify({ maxRssKiB: u.maxRSS, cpuSeconds }) + "\n");
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
  label: string;
  seconds: number;
  rate: number;
  delivered: number;
  rssMiB: number | null;
  /** CPU time of the milter process per message (ms). */
  cpuMsPerMsg: number | null;
}

async function main(): Promise<void> {
  const n = Number(args.messages);
  const sessions = Number(args.sessions);
  const size = Number(args.size);
  console.log(`smtp-source: ${n} messages, ${sessions} sessions, ${size} bytes each`);
  const results: Result[] = [];
  const all = [
    ["a", "a) Postfix, no milter", null],
    ["r", "r) Postfix + protocol floor (codec only, CONTINUE to all)", "raw"],
    ["b", "b) Postfix + Sluice milter (pass-through Session)", "pass"],
    ["c", "c) Postfix + Sluice milter (real pipeline, quick-start config)", "pipeline"],
  ] as const;
  for (const [key, label, mode] of all) {
    if (key === "a" || !args.only || args.only.includes(key)) {
      results.push(await scenario(label, n, sessions, size, mode));
    }
  }
  const base = results[0]!.rate;
  console.log("");
  console.log(
    "scenario".padEnd(66) + "msgs/s".padStart(9) + "  ratio/a" + "  delivered" + "  milter peak RSS",
  );
  for (const r of results) {
    console.log(
      r.label.padEnd(66) +
        r.rate.toFixed(1).padStart(9) +
        (r.rate / base).toFixed(2).padStart(9) +
        String(r.delivered).padStart(11) +
        (r.rssMiB === null ? "  -".padEnd(18) : `  ${r.rssMiB.toFixed(0)} MiB`.padEnd(18)) +
        (r.cpuMsPerMsg === null ? "  -" : `  ${r.cpuMsPerMsg.toFixed(2)} ms`),
    );
  }
  console.log(
    `machine: ${availableParallelism()} CPUs; Postfix, smtp-source, smtp-sink and the milter share them.`,
  );
  console.log("Rspamd milter comparison: not run (optional).");
}

async function scenario(
  label: string,
  n: number,
  sessions: number,
  size: number,
  milter: "pass" | "pipeline" | "raw" | null,
): Promise<Result> {
  const sinkPort = await freePort();
  const sink = spawn("/usr/sbin/smtp-sink", ["-u", "postfix", `127.0.0.1:${sinkPort}`, "1000"], {
    stdio: "ignore",
  });
  let child: ChildProcess | null = null;
  let milterSpec: string | undefined;
  if (milter) {
    const port = await freePort();
    child = spawn(
      process.execPath,
      [
        import.meta.filename,
        "--serve",
        String(port),
        ...(milter === "pipeline" ? ["--pipeline"] : milter === "raw" ? ["--raw"] : []),
      ],
      { stdio: ["pipe", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve, reject) => {
      child!.stdout!.once("data", () => resolve());
      child!.once("exit", (code) => reject(new Error(`milter child exited with ${code}`)));
    });
    milterSpec = `inet:127.0.0.1:${port}`;
  }
  const pf = await startPostfix({ sinkPort, milter: milterSpec });
  try {
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
    if (child) {
      const out = new Promise<string>((resolve) => {
        let buf = "";
        child!.stdout!.on("data", (d) => (buf += d));
        child!.once("exit", () => resolve(buf));
      });
      child.stdin!.end();
      const line = (await out).trim().split("\n").pop() ?? "{}";
      const stats = JSON.parse(line) as { maxRssKiB: number; cpuSeconds: number };
      rssMiB = stats.maxRssKiB / 1024;
      cpuMsPerMsg = (stats.cpuSeconds * 1000) / n;
    }
    const log = await pf.maillog();
    const milterErrors = (log.match(/milter/g) ?? []).length;
    console.log(
      `${label}: ${seconds.toFixed(1)} s, ${rate.toFixed(1)} msgs/s, delivered ${delivered}/${n}` +
        (milter ? `, maillog milter lines ${milterErrors}` : ""),
    );
    return { label, seconds, rate, delivered, rssMiB, cpuMsPerMsg };
  } finally {
    child?.kill();
    await pf.stop();
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
