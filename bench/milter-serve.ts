// The milter side of bench/milter.ts, run as its own process so that its CPU and RSS are
// measured alone: Sluice's milter server with a pass-through Session (p), the cheap filters (b)
// or the full pipeline (c), or the bare protocol floor (r: codec and negotiation only).
// Prints "ready", then, when stdin ends, one JSON line of what the pipeline did.
//   node bench/milter-serve.ts --listen inet:127.0.0.1:PORT --mode pass|cheap|full|raw
//     [--answer mail,rcpt] [--macros sluice|postfix] [--dns 127.0.0.1:PORT]
import { createServer } from "node:net";
import { rmSync } from "node:fs";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { Registry } from "prom-client";
import { MilterServer, parseSocketSpec } from "../src/milter/server.ts";
import { decodeCommand } from "../src/milter/commands.ts";
import { FrameReader } from "../src/milter/framing.ts";
import { forTcp, negotiate, noReplyFlag, wantedFor, type Wanted } from "../src/milter/negotiation.ts";
import { encodeReply } from "../src/milter/replies.ts";
import { FakeSession } from "../src/pipeline/session.fake.ts";
import { stageNeeds, type EnvelopeStage, type StageNeeds } from "../src/pipeline/stage-needs.ts";
import type { Session } from "../src/pipeline/session.ts";

export type Mode = "pass" | "cheap" | "full" | "raw";

const SIEVE = fileURLToPath(new URL("../examples/sieve/spam-subject-tag.sieve", import.meta.url));

/**
 * (b) and (c). Nothing is quarantined or rejected (thresholds tag only), so every message is
 * delivered and the run measures scanning, not the store.
 */
export function benchConfig(mode: "cheap" | "full", dns: string): string {
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

export interface ServeStats {
  messages: number;
  /** Messages on which each filter ran (from the verdict trace), and symbols seen. */
  filters: Record<string, number>;
  symbols: Record<string, number>;
  /** Session.data() wall time per message (ms). */
  dataMs?: { mean: number; p99: number };
  /** The envelope stages that waited for a reply. */
  answer: string[];
}

if (import.meta.main) await serve();

async function serve(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      listen: { type: "string" },
      mode: { type: "string", default: "pass" },
      dns: { type: "string", default: "" },
      answer: { type: "string" },
      macros: { type: "string", default: "sluice" },
    },
  });
  const mode = a.mode as Mode;
  const spec = a.listen!;
  const seen = { messages: 0, filters: {} as Record<string, number>, symbols: {} as Record<string, number> };
  const dataMs: number[] = [];
  let needs: StageNeeds = {
    answer: new Set((a.answer ?? "").split(",").filter(Boolean) as EnvelopeStage[]),
    filters: [],
  };
  let newSession: () => Session = () => new FakeSession({}, false);
  let close = async () => undefined as void;
  // The milter counts its commands as in production (sluice_milter_*).
  let registry = new Registry();
  if (mode === "cheap" || mode === "full") {
    const { Runtime } = await import("../src/runtime.ts");
    const rt = await Runtime.create({
      configText: benchConfig(mode, a.dns),
      store: "never",
      logger: pino({ level: "warn" }, pino.destination(2)),
    });
    // As start.ts: what the configuration may refuse decides what waits for a reply.
    needs = stageNeeds(rt.registry.all(), rt.config);
    registry = rt.metrics.registry;
    newSession = () => {
      const s = rt.newSession();
      const data = s.data.bind(s);
      // Record which filters ran, so the table shows the pipeline really did its work.
      s.data = async () => {
        const t0 = performance.now();
        const r = await data();
        dataMs.push(performance.now() - t0);
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
  const wanted: Wanted = wantedFor(needs);
  // "postfix": no SETSYMLIST, so the MTA sends its own (main.cf) macro lists.
  if (a.macros === "postfix") wanted.macros = new Map();
  let stop: () => Promise<void>;
  if (mode === "raw") stop = await serveRaw(spec, wanted);
  else {
    const server = new MilterServer({
      newSession,
      commit: async () => [],
      logger: pino({ level: "warn" }, pino.destination(2)),
      wanted,
      metrics: registry,
    });
    await server.listen(spec);
    stop = () => server.close();
  }
  process.stdout.write("ready\n");
  process.stdin.resume();
  process.stdin.on("end", async () => {
    await stop();
    await close();
    const ms = dataMs.sort((x, y) => x - y);
    const stats: ServeStats = {
      ...seen,
      answer: [...needs.answer],
      dataMs: ms.length
        ? { mean: ms.reduce((x, y) => x + y, 0) / ms.length, p99: ms[Math.floor(ms.length * 0.99)]! }
        : undefined,
    };
    process.stdout.write(JSON.stringify(stats) + "\n");
    process.exit(0);
  });
}

/**
 * The protocol floor: the same codec and negotiation, no Session, no message intake; every
 * command that expects a reply gets CONTINUE at once. Shows what the round trips cost.
 */
async function serveRaw(spec: string, wanted: Wanted): Promise<() => Promise<void>> {
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
          // As connection.ts: over TCP, DATA waits for a reply.
          const n = negotiate(cmd, socket.remoteFamily !== undefined ? forTcp(wanted) : wanted);
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
      if (out.length) socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
    });
  });
  const target = parseSocketSpec(spec);
  if ("path" in target) rmSync(target.path, { force: true });
  await new Promise<void>((r) =>
    "path" in target ? server.listen(target.path, r) : server.listen(target.port, target.host, r),
  );
  return () => new Promise<void>((r) => server.close(() => r()));
}
