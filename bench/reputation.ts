// Benchmark of the connection-level defences (#22), in one run:
//  1. DNS list lookups per second through the shared resolver against a private dnsmasq: cold
//     (every name asked on the wire) and warm (the same names again, from the cache);
//  2. the store: a rate check (three counters, one statement) and a greylist sighting, on SQLite
//     and, when installed, on PostgreSQL;
//  3. the SMTP proxy's messages per second (smtp-source → `sluice serve` → smtp-sink) with no DNS
//     list and with three client zones enabled (answers cached: the steady state of an MX whose
//     clients come back), alternating the two configurations to spread the machine's load.
// Prints a table and the cost of the three zones (goal: ≤ 10 % with a warm cache). Not in `npm test`.
//   node bench/reputation.ts [--names 20000] [--messages 4000] [--sessions 20] [--rounds 4]
// On a shared machine msgs/s swings with the neighbours' load; the CPU time of the Sluice process
// per message is the steadier measure of what the zones cost, and both are printed.
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs, promisify } from "node:util";
import pino from "pino";
import { DnsResolver } from "../src/filters/auth/dns.ts";
import { listMetrics, lookupList } from "../src/filters/reputation/lookup.ts";
import { clientZoneSchema, dnsblOptionsSchema } from "../src/filters/reputation/options.ts";
import { createDnsblFilter } from "../src/filters/reputation/dnsbl-filter.ts";
import { emptyEnvelope } from "../src/message/envelope.ts";
import type { RecipientPolicy } from "../src/policy/types.ts";
import { startDnsmasq } from "../test/helpers/dns.ts";
import { postgresMissing, startPostgres } from "../test/helpers/postgres.ts";
import { SqliteStore } from "../src/store/sqlite.ts";
import { PostgresStore } from "../src/store/postgres.ts";
import type { GreylistStore, RateCounterStore } from "../src/store/types.ts";
import { freePort } from "../test/helpers/ports.ts";

const run = promisify(execFile);
const { values: args } = parseArgs({
  options: {
    names: { type: "string", default: "20000" },
    messages: { type: "string", default: "4000" },
    sessions: { type: "string", default: "20" },
    size: { type: "string", default: "4096" },
    rounds: { type: "string", default: "4" },
  },
});
const ROOT = join(import.meta.dirname, "..");
const NAMES = Number(args.names);
const N = Number(args.messages);

// One zone lists every tenth address of 198.18.0.0/15 (and the bench client 127.0.0.1); the others answer NXDOMAIN.
const listed: [string, string][] = [["1.0.0.127.zen.bench", "127.0.0.2"]];
for (let i = 0; i < NAMES; i += 10) listed.push([`${reversed(i)}.zen.bench`, "127.0.0.2"]);
const dns = await startDnsmasq({
  domains: ["zen.bench", "bl.bench", "wl.bench"],
  address: listed.slice(0, 2000),
  ttl: 300,
});

function address(i: number): string {
  return `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
}
function reversed(i: number): string {
  return address(i).split(".").reverse().join(".");
}

// ---- 1. lookups per second ----
const zone = clientZoneSchema.parse({
  zone: "zen.bench",
  symbol: "RBL_ZEN",
  score: 2,
  codes: { "127.0.0.2": "RBL_ZEN_SBL" },
});
const metrics = listMetrics();
const log = pino({ level: "silent" });
const resolver = new DnsResolver({ servers: [dns.server], timeoutMs: 2000, cacheSize: NAMES * 2 });
async function lookups(): Promise<{ perS: number; listed: number; errors: number }> {
  const t0 = performance.now();
  let hits = 0;
  let errors = 0;
  const batch = 500;
  for (let i = 0; i < NAMES; i += batch) {
    const rs = await Promise.all(
      Array.from({ length: Math.min(batch, NAMES - i) }, (_, j) =>
        lookupList(resolver, reversed(i + j), zone, metrics, log),
      ),
    );
    for (const r of rs) {
      if (r.status === "listed") hits++;
      if (r.status === "error") errors++;
    }
  }
  return { perS: NAMES / ((performance.now() - t0) / 1000), listed: hits, errors };
}
const cold = await lookups();
const warm = await lookups();

// ---- 1b. the filter's own cost at RCPT with three zones, answers cached (in this process) ----
const options = dnsblOptionsSchema.parse({
  dns: { servers: [dns.server], timeout_ms: 2000 },
  exempt_networks: [],
  zones: [
    { zone: "zen.bench", symbol: "RBL_ZEN", score: 1, codes: { "127.0.0.2": "RBL_ZEN_SBL" } },
    { zone: "bl.bench", symbol: "RBL_BL", score: 2 },
    { zone: "wl.bench", type: "allow", symbol: "RCVD_IN_WL", score: -1 },
  ],
});
const filter = createDnsblFilter({ resolver: () => resolver });
const policy = { filters: { dnsbl: { options } } } as unknown as RecipientPolicy;
const ctx = (client: string) => ({
  stage: "rcpt" as const,
  envelope: { ...emptyEnvelope("inbound", client), mailFrom: { address: "a@b.test", params: {} } },
  tx: null,
  recipients: [{ address: "user@example.com", policy }],
  options,
  earlier: [],
  earlierFor: () => [],
  history: { sentBefore: async () => false },
  signal: new AbortController().signal,
  log,
});
const CHECKS = 20_000;
for (let i = 0; i < 100; i++) await filter.check(ctx(address(i)));
const f0 = performance.now();
for (let i = 0; i < CHECKS; i++) await filter.check(ctx(address(i % 100)));
const perCheckUs = ((performance.now() - f0) * 1000) / CHECKS;

// ---- 3. the proxy with and without three zones ----
async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 900; i++) {
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

const ZONES = `
    dnsbl:
      enabled: true
      options:
        dns: { servers: ["${dns.server}"], timeout_ms: 2000 }
        exempt_networks: []
        zones:
          - { zone: zen.bench, symbol: RBL_ZEN, score: 1, codes: { 127.0.0.2: RBL_ZEN_SBL } }
          - { zone: bl.bench, symbol: RBL_BL, score: 2 }
          - { zone: wl.bench, type: allow, symbol: RCVD_IN_WL, score: -1 }`;

async function sluice(sinkPort: number, zones: boolean): Promise<{ port: number; child: ChildProcess }> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-bench-rep-"));
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
    spam-classifier: { enabled: false }${zones ? ZONES : ""}
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
  return { port, child };
}

async function source(port: number, messages: number): Promise<number> {
  const t0 = performance.now();
  await run(
    "/usr/sbin/smtp-source",
    [
      "-s",
      String(args.sessions),
      "-m",
      String(messages),
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
  return messages / ((performance.now() - t0) / 1000);
}

// ---- 2. the cost of a rate check and a greylist sighting in each store ----
interface StoreCost {
  store: string;
  rateUs: number;
  ratePerS: number;
  greyUs: number;
}
async function storeCost(name: string, store: RateCounterStore & GreylistStore): Promise<StoreCost> {
  const CHECKS = 2000;
  const hit = (i: number) => [
    { key: `user:messages:3600:u${i % 50}@example.com`, amount: 1 },
    { key: `client:recipients:3600:192.0.2.${i % 200}/32`, amount: 1 },
    { key: `recipient:messages:3600:r${i % 500}@example.com`, amount: 1 },
  ];
  let t0 = performance.now();
  for (let i = 0; i < CHECKS; i++) await store.countRates(hit(i), 3600, new Date());
  const rateUs = ((performance.now() - t0) * 1000) / CHECKS;
  t0 = performance.now();
  await Promise.all(
    Array.from({ length: 20 }, async (_, w) => {
      for (let i = w; i < CHECKS; i += 20) await store.countRates(hit(i), 3600, new Date());
    }),
  );
  const ratePerS = CHECKS / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  for (let i = 0; i < CHECKS; i++) {
    await store.greylist({
      tenant: "t",
      network: `198.51.100.${i % 250}/32`,
      sender: `s${i % 40}@sender.example`,
      recipient: `r${i % 7}@example.com`,
      now: new Date(),
      delayS: 300,
      retryWindowS: 86_400,
      expiryS: 86_400 * 35,
      autoAllowAfter: 5,
      autoAllowExpiryS: 86_400 * 35,
    });
  }
  const greyUs = ((performance.now() - t0) * 1000) / CHECKS;
  return { store: name, rateUs, ratePerS, greyUs };
}
const costs: StoreCost[] = [];
{
  const dir = mkdtempSync(join(tmpdir(), "sluice-bench-rep-store-"));
  const sqlite = new SqliteStore(join(dir, "s.db"));
  await sqlite.migrate();
  costs.push(await storeCost("SQLite (synchronous=FULL for other writes)", sqlite));
  await sqlite.close();
}
if (!postgresMissing()) {
  const pg = await startPostgres({ fsync: true });
  try {
    const store = new PostgresStore(await pg.database());
    await store.migrate();
    costs.push(await storeCost("PostgreSQL (fsync on, loopback)", store));
    await store.close();
  } finally {
    await pg.destroy();
  }
}

const sinkPort = await freePort();
const sink = spawn("/usr/sbin/smtp-sink", ["-u", "nobody", `127.0.0.1:${sinkPort}`, "1000"], {
  stdio: "ignore",
});
await waitPort(sinkPort);
const rates: Record<"none" | "three", number[]> = { none: [], three: [] };
/** CPU milliseconds of the Sluice process per message: steadier than msgs/s on a shared machine. */
const cpu: Record<"none" | "three", number[]> = { none: [], three: [] };
const cpuMs = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, USER_HZ = 100
};
try {
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const kind of round % 2 === 0 ? (["none", "three"] as const) : (["three", "none"] as const)) {
      const s = await sluice(sinkPort, kind === "three");
      try {
        await source(s.port, 200); // warm up: JIT, connections, and the DNS answers cached
        const before = cpuMs(s.child.pid!);
        rates[kind].push(await source(s.port, N));
        cpu[kind].push((cpuMs(s.child.pid!) - before) / N);
      } finally {
        s.child.kill("SIGTERM");
      }
    }
  }
} finally {
  sink.kill("SIGTERM");
  await dns.close();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const none = median(rates.none);
const three = median(rates.three);
console.log(
  `\nDNS lists and the proxy; ${availableParallelism()} CPUs shared by all processes, load average ${loadavg()[0]!.toFixed(1)}`,
);
console.log("| measure | value |");
console.log("|---|---|");
console.log(
  `| DNSBL lookups/s, cold (${NAMES} names on the wire, ${cold.listed} listed, ${cold.errors} errors) | ${cold.perS.toFixed(0)} |`,
);
console.log(`| DNSBL lookups/s, warm (same names from the cache) | ${warm.perS.toFixed(0)} |`);
console.log(
  `| dnsbl filter at RCPT, three zones, warm: µs per recipient (in process) | ${perCheckUs.toFixed(1)} |`,
);
console.log(
  `| proxy msgs/s, no DNS list (runs: ${rates.none.map((x) => x.toFixed(0)).join(", ")}) | ${none.toFixed(0)} |`,
);
console.log(
  `| proxy msgs/s, three zones, warm cache (runs: ${rates.three.map((x) => x.toFixed(0)).join(", ")}) | ${three.toFixed(0)} |`,
);
const cpuNone = median(cpu.none);
const cpuThree = median(cpu.three);
const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(", ");
for (const c of costs) {
  console.log(`| ${c.store}: rate check of 3 counters, µs (sequential) | ${c.rateUs.toFixed(0)} |`);
  console.log(`| ${c.store}: rate checks/s (20 concurrent) | ${c.ratePerS.toFixed(0)} |`);
  console.log(`| ${c.store}: greylist sighting, µs (sequential) | ${c.greyUs.toFixed(0)} |`);
}
console.log(`| Sluice CPU ms per message, no DNS list (runs: ${list(cpu.none)}) | ${cpuNone.toFixed(2)} |`);
console.log(`| Sluice CPU ms per message, three zones (runs: ${list(cpu.three)}) | ${cpuThree.toFixed(2)} |`);
const signed = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(1)} %`;
console.log(
  `\nthree zones (warm cache) against none: throughput ${signed((three / none - 1) * 100)}, ` +
    `CPU per message ${signed((cpuThree / cpuNone - 1) * 100)} (goal: at most 10 % more)`,
);
