// Shadow rollout on one node: while a candidate configuration runs in shadow here, every message
// the live configuration finished is evaluated again under the candidate — after the live reply
// is decided, off the client's path — and recipients whose action would differ are recorded.
// It never acts: the candidate's sessions have no store, and their results are only compared.
import type { Logger } from "pino";
import { Runtime } from "../runtime.ts";
import type { Filter } from "../pipeline/types.ts";
import type { DataResult, Session } from "../pipeline/session.ts";
import type { Envelope } from "../message/envelope.ts";
import type { ShadowDiff, ShadowRun, Store } from "../store/types.ts";
import { composeConfig } from "./revision.ts";

export interface ShadowOptions {
  store: Store;
  nodeName: string;
  log: Logger;
  /** Filters beside the built-ins (the same the live runtime has: tests). */
  extraFilters?: Filter[];
  /** Larger messages are not evaluated (default 10 MB). */
  maxBytes?: number;
  flushMs?: number;
}

interface Active {
  run: ShadowRun;
  runtime: Runtime;
}

export class ShadowEvaluator {
  private readonly opts: ShadowOptions;
  private active: Active | null = null;
  private refused = new Set<number>();
  private evaluated = 0;
  private diffs: ShadowDiff[] = [];
  private inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;

  constructor(opts: ShadowOptions) {
    this.opts = opts;
  }

  /** The shadow run this node evaluates now, if any. */
  get current(): ShadowRun | null {
    return this.active?.run ?? null;
  }

  /** Follow the running shadow runs of our role: start, keep, or drop the candidate. */
  async sync(running: ShadowRun[], localText: string): Promise<void> {
    const mine = running.find((r) => r.nodes.length === 0 || r.nodes.includes(this.opts.nodeName)) ?? null;
    if (mine?.id === this.active?.run.id) return;
    await this.flush();
    this.active = null;
    if (!mine || this.refused.has(mine.id)) return;
    try {
      const runtime = await Runtime.create({
        configText: composeConfig(localText, mine.text),
        store: "never",
        logger: this.opts.log.child({ shadow: mine.id }, { level: "warn" }),
        extraFilters: this.opts.extraFilters,
      });
      this.active = { run: mine, runtime };
      this.timer ??= setInterval(() => void this.flush(), this.opts.flushMs ?? 1000);
      this.timer.unref();
      this.opts.log.info({ shadow: mine.id, role: mine.role }, "cluster: shadow evaluation started");
    } catch (err) {
      this.refused.add(mine.id);
      this.opts.log.error(
        { shadow: mine.id, err: (err as Error).message },
        "cluster: shadow candidate refused",
      );
    }
  }

  /** A session that behaves exactly like `live`, and hands each finished message to the shadow. */
  wrap(live: Session): Session {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    return {
      get tx() {
        return live.tx;
      },
      connect: (i) => live.connect(i),
      helo: (n) => live.helo(n),
      setTls: (p, c) => live.setTls(p, c),
      setAuth: (l) => live.setAuth(l),
      mail: (a, p) => live.mail(a, p),
      rcpt: (a, p) => live.rcpt(a, p),
      beginData: () => live.beginData(),
      noteRefusal: (stage, reply) => live.noteRefusal?.(stage, reply),
      noteCommitRefusal: async (reply) => live.noteCommitRefusal?.(reply),
      async data() {
        const result = await live.data();
        const tx = live.tx;
        const a = self.active;
        if (a && tx?.spool && tx.size <= (self.opts.maxBytes ?? 10 * 1024 * 1024)) {
          // Copy now: the spool is freed at reset. The evaluation itself runs afterwards.
          const bytes = await tx.spool.buffer();
          const env = structuredClone(tx.envelope);
          const p = self.evaluate(a, tx.id, env, bytes, result).catch((err: Error) => {
            self.opts.log.warn(
              { shadow: a.run.id, id: tx.id, err: err.message },
              "cluster: shadow evaluation failed",
            );
          });
          self.inFlight.add(p);
          void p.finally(() => self.inFlight.delete(p));
        }
        return result;
      },
      reset: () => live.reset(),
      close: () => live.close(),
    };
  }

  private async evaluate(
    a: Active,
    id: string,
    env: Envelope,
    bytes: Buffer,
    live: DataResult,
  ): Promise<void> {
    const s = a.runtime.newSession();
    const shadow = new Map<string, string>();
    try {
      await s.connect({
        ingress: env.ingress,
        address: env.client.address,
        port: env.client.port,
        name: env.client.name,
        localName: env.localName,
      });
      if (env.helo) await s.helo(env.helo);
      if (env.tls) s.setTls(env.tls.protocol, env.tls.cipher);
      if (env.auth) s.setAuth(env.auth);
      const m = await s.mail(env.mailFrom?.address ?? "", env.mailFrom?.params ?? {});
      let accepted = 0;
      for (const r of env.recipients) {
        if (!m.ok) {
          shadow.set(r.address.toLowerCase(), m.reply.code >= 500 ? "reject" : "tempfail");
          continue;
        }
        const front = await recipientCheck(a.runtime, r.address, env.auth !== null);
        if (front) {
          shadow.set(r.address.toLowerCase(), front);
          continue;
        }
        const refused = await s.rcpt(r.address, r.params);
        if (refused.ok) accepted++;
        else shadow.set(r.address.toLowerCase(), refused.reply.code >= 500 ? "reject" : "tempfail");
      }
      if (accepted) {
        const w = s.beginData();
        await w.write(bytes);
        await w.end();
        const res = await s.data();
        for (const v of res.verdicts) shadow.set(v.address.toLowerCase(), v.action);
      }
    } finally {
      await s.reset().catch(() => undefined);
      await s.close().catch(() => undefined);
    }
    this.evaluated++;
    for (const v of live.verdicts) {
      const now = shadow.get(v.address.toLowerCase());
      if (now !== undefined && now !== v.action) {
        this.diffs.push({
          messageId: id,
          at: new Date(),
          sender: env.mailFrom?.address ?? "",
          recipient: v.address.toLowerCase(),
          liveAction: v.action,
          shadowAction: now,
        });
      }
    }
  }

  /** Write what was evaluated since the last flush (kept for the next one if the store is away). */
  async flush(): Promise<void> {
    await Promise.all([...this.inFlight]);
    const a = this.active;
    if (!a || (this.evaluated === 0 && this.diffs.length === 0)) return;
    const evaluated = this.evaluated;
    const diffs = this.diffs;
    this.evaluated = 0;
    this.diffs = [];
    try {
      await this.opts.store.recordShadow(a.run.id, this.opts.nodeName, evaluated, diffs);
    } catch {
      this.evaluated += evaluated;
      this.diffs = [...diffs, ...this.diffs];
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
    this.active = null;
  }
}

/**
 * What the SMTP front end decides before the session sees a recipient (relay control and
 * recipient verification, src/smtp/connection.ts), under the candidate's configuration.
 */
async function recipientCheck(
  runtime: Runtime,
  address: string,
  authenticated: boolean,
): Promise<string | null> {
  const resolver = runtime.resolver;
  if (!resolver.isLocal(address)) return authenticated ? null : "reject";
  if (!resolver.tenantFor(address)?.verify_recipients) return null;
  try {
    return (await runtime.directory.lookup(address)) ? null : "reject";
  } catch {
    return "tempfail";
  }
}

/**
 * The runtime as the front ends see it on a shadowing node: the same object, except that each
 * new session is wrapped so the shadow sees its finished messages.
 */
export function shadowedRuntime(runtime: Runtime, shadow: ShadowEvaluator): Runtime {
  return new Proxy(runtime, {
    get(target, prop) {
      if (prop === "newSession") return () => shadow.wrap(target.newSession());
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
