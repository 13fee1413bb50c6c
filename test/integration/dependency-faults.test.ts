// Dependencies stopped and restarted under load: the next hop, clamd and slapd each go away
// while four clients keep sending through the proxy. Every answer is 250 or the documented 4xx
// for that dependency (451 4.4.1 next hop, 451 4.7.1 scanner, 451 4.4.3 directory) — never a
// 5xx, never a hang; each 250 reached the next hop exactly once; and once the dependency is back
// the node recovers by itself. Time to recover is printed (restart → first 250).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProxy, type Proxy } from "../helpers/proxy.ts";
import { SmtpSink } from "../helpers/sink.ts";
import { RawClient } from "../helpers/raw-client.ts";
import { haveClamd, startClamd, type Clamd } from "../helpers/clamd.ts";
import {
  slapdMissing,
  startSlapd,
  userLdif,
  SUFFIX,
  SERVICE_DN,
  SERVICE_PW,
  type Slapd,
} from "../helpers/slapd.ts";

interface Answer {
  at: number;
  reply: string;
  subject: string;
}

/** Four clients sending in a loop until stopped; every final answer is recorded. */
function load(port: number, rcpt: string) {
  const answers: Answer[] = [];
  let running = true;
  let n = 0;
  const one = async () => {
    const subject = `load-${++n}-${Date.now()}`;
    let c: RawClient | null = null;
    let reply: string;
    try {
      c = await RawClient.open(port);
      await c.reply();
      await c.cmd("EHLO load.test");
      await c.cmd("MAIL FROM:<load@remote.test>");
      reply = await c.cmd(`RCPT TO:<${rcpt}>`);
      if (reply.startsWith("250")) {
        await c.cmd("DATA");
        c.send(`From: <load@remote.test>\r\nSubject: ${subject}\r\n\r\nhello\r\n.\r\n`);
        reply = await c.reply(30_000);
      }
      c.send("QUIT\r\n");
    } catch (err) {
      reply = `(error ${(err as Error).message})`;
    } finally {
      c?.close();
    }
    answers.push({ at: Date.now(), reply, subject });
  };
  const workers = Array.from({ length: 4 }, async () => {
    while (running) await one();
  });
  return {
    answers,
    async stop() {
      running = false;
      await Promise.all(workers);
    },
    /** Resolves with the time of the first 250 after `since`. */
    async firstOkAfter(since: number, ms = 60_000): Promise<number> {
      const until = Date.now() + ms;
      for (;;) {
        const ok = answers.find((a) => a.at >= since && a.reply.startsWith("250"));
        if (ok) return ok.at;
        if (Date.now() > until) throw new Error(`no 250 within ${ms} ms of the restart`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

/** auth (DNS) and the classifier stay out: only the dependency under test can fail. */
const base =
  (sinkPort: number, extra: string, virus = "") =>
  (dir: string) => `
store: sqlite:${dir}/store.db
spool: { dir: ${dir}/spool }
delivery: smtp://127.0.0.1:${sinkPort}
smtp:
  hostname: mx.test
  listeners: { inbound: { listen: "127.0.0.1:0" }, submission: { enabled: false }, submissions: { enabled: false } }
  limits: { max_connections_per_ip: 100, next_hop_timeout_s: 5 }
policy:
  filters:
    auth: { enabled: false }
    spam-classifier: { enabled: false }
    ${virus}
${extra}
`;

const tenants = `
tenants:
  - id: example
    domains: [example.com]
    users: [{ address: bob@example.com }]
`;

/** Check the answers of one run and report the recovery time. */
function verdict(
  what: string,
  answers: Answer[],
  allowed: RegExp,
  stoppedAt: number,
  back: number,
  ok: number,
) {
  const kinds = new Map<string, number>();
  for (const a of answers) {
    const k = a.reply.slice(0, 9);
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
  }
  console.log(
    `${what}: ${answers.length} answers ${JSON.stringify(Object.fromEntries(kinds))}; ` +
      `down ${back - stoppedAt} ms; recovered ${ok - back} ms after the restart`,
  );
  for (const a of answers) if (!a.reply.startsWith("250")) expect(a.reply).toMatch(allowed);
  expect(answers.some((a) => a.at > stoppedAt && a.at < back && !a.reply.startsWith("250"))).toBe(true);
}

describe("dependencies stopped and restarted under load", () => {
  const sink = new SmtpSink();
  let proxy: Proxy | null = null;

  beforeAll(async () => {
    await sink.start();
  });
  afterAll(async () => {
    await proxy?.close();
    await sink.stop();
  });

  it("next hop: 451 4.4.1 while it is down, every 250 delivered once, recovery by itself", async () => {
    proxy = await startProxy(base(sink.port, tenants));
    const l = load(proxy.port("inbound"), "bob@example.com");
    await new Promise((r) => setTimeout(r, 1000));
    const stoppedAt = Date.now();
    await sink.stop();
    await new Promise((r) => setTimeout(r, 1500));
    const back = Date.now();
    await sink.start(sink.port);
    const ok = await l.firstOkAfter(back);
    await new Promise((r) => setTimeout(r, 500));
    await l.stop();
    verdict("next hop", l.answers, /^451 4\.4\.1 /, stoppedAt, back, ok);
    const accepted = l.answers.filter((a) => a.reply.startsWith("250"));
    for (const a of accepted) {
      const copies = sink.messages.filter((m) => m.data.includes(`Subject: ${a.subject}\r\n`)).length;
      expect(copies, a.subject).toBe(1);
    }
    await proxy.close();
    proxy = null;
  }, 90_000);

  it.skipIf(!haveClamd())(
    "clamd: 451 4.7.1 while it is down, recovery by itself",
    async () => {
      let clamd: Clamd = await startClamd();
      try {
        proxy = await startProxy(
          base(
            sink.port,
            tenants,
            `virus: { enabled: true, options: { clamd: [{ host: 127.0.0.1, port: ${clamd.port} }], timeout_ms: 3000 } }`,
          ),
        );
        const l = load(proxy.port("inbound"), "bob@example.com");
        await new Promise((r) => setTimeout(r, 1000));
        const stoppedAt = Date.now();
        await clamd.stop();
        await new Promise((r) => setTimeout(r, 1500));
        const back = Date.now();
        clamd = await startClamd({ port: clamd.port });
        const ok = await l.firstOkAfter(back);
        await l.stop();
        verdict("clamd", l.answers, /^451 4\.7\.1 /, stoppedAt, back, ok);
      } finally {
        await clamd.stop();
        await proxy?.close();
        proxy = null;
      }
    },
    120_000,
  );

  const noSlapd = slapdMissing();
  it.skipIf(!!noSlapd)(
    "slapd: 451 4.4.3 at RCPT while it is down, recovery by itself",
    async () => {
      const slapd: Slapd = await startSlapd();
      try {
        await slapd.ldapadd(userLdif({ uid: "bob", mail: "bob@example.com" }));
        proxy = await startProxy(
          base(
            sink.port,
            `directory:
  type: ldap
  url: ${slapd.url}
  bind_dn: "${SERVICE_DN}"
  bind_password: "${SERVICE_PW}"
  timeout_ms: 1000
  tenants:
    example: { base_dn: "ou=people,${SUFFIX}" }
  cache: { ttl_s: 0, negative_ttl_s: 0, stale_s: 0 }
tenants:
  - id: example
    domains: [example.com]
`,
          ),
        );
        const l = load(proxy.port("inbound"), "bob@example.com");
        await new Promise((r) => setTimeout(r, 1000));
        const stoppedAt = Date.now();
        await slapd.stop();
        await new Promise((r) => setTimeout(r, 1500));
        const back = Date.now();
        await slapd.restart();
        const ok = await l.firstOkAfter(back);
        await l.stop();
        verdict("slapd", l.answers, /^451 4\.4\.3 /, stoppedAt, back, ok);
      } finally {
        await proxy?.close();
        proxy = null;
        await slapd.stop();
      }
    },
    120_000,
  );
});
