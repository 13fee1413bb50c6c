// The pipeline behind the Session seam: runs each stage's filters, once per message and
// only for the recipients whose policy wants them, then builds per-recipient verdicts.
// It never writes to a socket; front ends turn its replies and groups into protocol.
import type { Logger } from "pino";
import { emptyEnvelope, type Envelope } from "../message/envelope.ts";
import {
  newReferenceId,
  Transaction,
  type IntakeLimits,
  type MessageWriter,
} from "../message/transaction.ts";
import { DirectoryError } from "../policy/directory.ts";
import { scanFingerprint, type PolicyResolver } from "../policy/resolve.ts";
import type { RecipientPolicy } from "../policy/types.ts";
import type { Store } from "../store/types.ts";
import { formatReply, isFinal, replyFor } from "./actions.ts";
import type { PipelineMetrics } from "./metrics.ts";
import { buildOutcome } from "./outcome.ts";
import { errorSymbol, onErrorAction, runFilter } from "./run-filter.ts";
import type { ConnectInfo, DataResult, RecipientVerdict, Session, StageReply } from "./session.ts";
import type { Action, Filter, FilterResult, RecipientResult, SenderInfo, Stage } from "./types.ts";
import type { HeaderEdit, Notification, SmtpReply, SymbolHit } from "../message/types.ts";
import { decide, type RecipientState, type ScoredSymbol } from "./verdict.ts";
import type { TraceEntry } from "./trace.ts";
import { reply } from "../message/replies.ts";

export interface PipelineDeps {
  filters: readonly Filter[];
  resolver: PolicyResolver;
  log: Logger;
  metrics: PipelineMetrics;
  intake: IntakeLimits;
  store: Store | null;
}

/** Results of connect/helo/mail-stage filters: they apply to every recipient that allows them. */
interface EarlyResult {
  filter: string;
  stage: Stage;
  symbols: SymbolHit[];
  headers: HeaderEdit[];
  action?: Action;
  trace: TraceEntry;
}

const OK: StageReply = { ok: true };

/** A refusal of the whole message (not of one recipient) before DATA was scanned. */
interface MessageRefusal {
  stage: string;
  reply: SmtpReply;
  symbols: SymbolHit[];
  trace: TraceEntry[];
}

export class PipelineSession implements Session {
  tx: Transaction | null = null;
  private envelope: Envelope = emptyEnvelope("scan");
  private early: EarlyResult[] = [];
  private messageEarly: EarlyResult[] = [];
  private rcpts: RecipientState[] = [];
  private readonly deps: PipelineDeps;
  private readonly connPolicy: RecipientPolicy;
  private readonly filterMs = new Map<string, number>();
  /** Recipients refused at RCPT, kept for the message log of this transaction. */
  private refused: RecipientVerdict[] = [];
  private refusal: MessageRefusal | null = null;
  /** The transaction's message-log entries are written (data() or a refusal). */
  private logged = false;
  /** The entries written for this transaction (a refusal at commit updates them). */
  private written: { id: string; recipients: RecipientVerdict[] }[] = [];

  private senderInfo: Promise<SenderInfo | null> | null = null;
  /** The authenticated sender's tenant and language (once per transaction, when a filter asks). */
  private readonly sender = (): Promise<SenderInfo | null> =>
    (this.senderInfo ??= (async () => {
      const env = this.tx?.envelope ?? this.envelope;
      const tenant = this.deps.resolver.senderTenant(env);
      if (!tenant) return null;
      const address = (env.auth?.includes("@") ? env.auth : (env.mailFrom?.address ?? "")).toLowerCase();
      const own = await this.deps.resolver.forRecipient(address).catch(() => null);
      return { address, tenant, language: own?.tenant === tenant ? own.language : tenant.language };
    })());

  /** Sender→recipient history from the message log (no store: nothing is known). */
  private readonly history = {
    sentBefore: async (sender: string, recipient: string): Promise<boolean> => {
      if (!this.deps.store || !sender) return false;
      const hits = await this.deps.store.searchLog({ sender, recipient, limit: 20 });
      // Refusals are logged too (reference ids lead somewhere); only mail that got through counts.
      const a = recipient.toLowerCase();
      return hits.some((e) => e.recipients.some((r) => r.address === a && !("stage" in r && r.stage)));
    },
  };

  constructor(deps: PipelineDeps) {
    this.deps = deps;
    this.connPolicy = deps.resolver.connectionPolicy();
  }

  private sorted(stage: Stage, policy: RecipientPolicy): Filter[] {
    return this.deps.filters
      .filter((f) => f.stages.includes(stage))
      .sort(
        (a, b) =>
          (policy.filters[a.name]?.priority ?? a.priority) - (policy.filters[b.name]?.priority ?? b.priority),
      );
  }

  async connect(info: ConnectInfo): Promise<StageReply> {
    this.envelope = emptyEnvelope(info.ingress, info.address);
    this.envelope.client = { address: info.address, port: info.port, name: info.name };
    this.envelope.localName = info.localName;
    return this.runEarly("connect", this.early);
  }

  async helo(name: string): Promise<StageReply> {
    this.envelope.helo = name;
    this.early = this.early.filter((e) => e.stage !== "helo");
    return this.runEarly("helo", this.early);
  }

  setTls(protocol: string, cipher: string): void {
    this.envelope.tls = { protocol, cipher };
  }

  setAuth(login: string | null): void {
    this.envelope.auth = login;
  }

  async mail(address: string, params: Record<string, string | true>): Promise<StageReply> {
    await this.reset();
    this.envelope.mailFrom = { address, params };
    this.envelope.recipients = [];
    this.tx = new Transaction(structuredClone(this.envelope), this.deps.intake);
    const reply = await this.runEarly("mail", this.messageEarly);
    if (!reply.ok) await this.reset();
    return reply;
  }

  /** Connect/helo/mail stage: no recipients yet, so the connection-level policy decides. */
  private async runEarly(stage: Stage, into: EarlyResult[]): Promise<StageReply> {
    for (const f of this.sorted(stage, this.connPolicy)) {
      const settings = this.connPolicy.filters[f.name]!;
      if (!settings.enabled) continue;
      const run = await runFilter(
        f,
        {
          stage,
          envelope: this.tx?.envelope ?? this.envelope,
          tx: this.tx,
          recipients: [],
          options: settings.options,
          earlier: into.flatMap((e) => e.symbols),
          earlierFor: () => into.flatMap((e) => e.symbols),
          history: this.history,
          sender: this.sender,
          log: this.deps.log,
        },
        settings.timeoutMs,
      );
      this.observe(f.name, run.ms, run.error);
      const r = run.error ? this.errorResult(f.name, run.error, settings.onError) : run.result;
      const trace: TraceEntry = {
        filter: f.name,
        stage,
        ran: true,
        ms: round(run.ms),
        symbols: (r.symbols ?? []).map((s) => s.name),
        ...(r.action ? { action: r.action.type } : {}),
        ...(run.error ? { error: run.error.message } : {}),
        ...(r.note ? { note: r.note } : {}),
        priority: settings.priority,
      };
      into.push({
        filter: f.name,
        stage,
        symbols: r.symbols ?? [],
        headers: r.headers ?? [],
        action: r.action,
        trace,
      });
      if (r.action && (r.action.type === "reject" || r.action.type === "tempfail")) {
        // Before MAIL there is no transaction: the connection gets a reference id of its own.
        const ref = this.tx?.id ?? newReferenceId();
        const reply = replyFor(r.action, ref);
        const refusal: MessageRefusal = {
          stage,
          reply,
          symbols: into.flatMap((e) => e.symbols.map((x) => ({ ...x, filter: e.filter }))),
          trace: [...into.map((e) => e.trace), { decision: r.action.type, by: f.name }],
        };
        this.countRefusal(stage, reply);
        if (this.tx) this.refusal = refusal;
        else await this.recordRefusal(ref, this.envelope, refusal, null, 0);
        return { ok: false, reply };
      }
    }
    return OK;
  }

  async rcpt(address: string, params: Record<string, string | true>): Promise<StageReply> {
    const tx = this.tx;
    if (!tx) return { ok: false, reply: reply("badSequence", { text: "Error: need MAIL command" }) };
    let policy: RecipientPolicy;
    try {
      policy = await this.deps.resolver.forRecipient(address);
    } catch (err) {
      if (!(err instanceof DirectoryError)) throw err;
      this.deps.log.warn({ id: tx.id, rcpt: address, err: err.message }, "directory unavailable");
      const reply: SmtpReply = {
        code: 451,
        enhanced: "4.4.3",
        text: `Directory temporarily unavailable, try again later [ref ${tx.id}]`,
      };
      this.refuseRecipient(address, "tempfail", reply, [], [{ decision: "tempfail", by: "directory" }]);
      return { ok: false, reply };
    }
    const first = this.rcpts[0];
    if (first && (first.policy.splitMixed === "defer" || policy.splitMixed === "defer")) {
      if (scanFingerprint(first.policy) !== scanFingerprint(policy)) {
        return {
          ok: false,
          reply: {
            code: 452,
            enhanced: "4.5.3",
            text: "Recipient has a different filtering policy; send it in a separate transaction",
          },
        };
      }
    }
    const state: RecipientState = {
      address: address.toLowerCase(),
      params,
      policy,
      symbols: [],
      actions: [],
      headers: [],
      notify: [],
      skipGroups: new Map(),
      trace: [],
    };
    await this.runForRecipients("rcpt", [state]);
    const final = state.actions.find((a) => a.type === "reject" || a.type === "tempfail");
    if (final) {
      const reply = replyFor(final, tx.id);
      const symbols = state.symbols.map((x) => ({ ...x, score: policy.scores[x.name] ?? x.score }));
      this.refuseRecipient(address, final.type as "reject" | "tempfail", reply, symbols, [
        ...state.trace,
        { decision: final.type, by: final.filter },
      ]);
      return { ok: false, reply };
    }
    this.rcpts.push(state);
    tx.envelope.recipients.push({ address, params });
    return OK;
  }

  beginData(): MessageWriter {
    if (!this.tx) throw new Error("beginData without a transaction");
    return this.tx.writer();
  }

  async data(): Promise<DataResult> {
    const tx = this.tx;
    if (!tx) throw new Error("data without a transaction");
    await this.runForRecipients("data", this.rcpts);
    const subject = tx.headers.get("Subject");
    const verdicts = this.rcpts.map((r) => {
      this.mergeEarly(r);
      return decide(r, subject);
    });
    const outcome = buildOutcome(verdicts, tx.id);
    for (const v of verdicts) this.deps.metrics.messages.inc({ action: v.action.type });
    if (outcome.reply) this.countRefusal("data", outcome.reply);
    const notifications = outcome.reply
      ? []
      : verdicts.filter((v) => v.action.type !== "discard").flatMap((v) => v.notify);
    const result: DataResult = {
      ...outcome,
      notifications: dedupe(notifications),
      verdicts: verdicts.map((v) => ({
        address: v.address,
        action: v.action.type,
        score: v.score,
        symbols: v.symbols,
        trace: v.trace,
      })),
    };
    await this.record(tx, result);
    return result;
  }

  /** Early-stage results count for a recipient only if its policy enables that filter. */
  private mergeEarly(r: RecipientState): void {
    for (const e of [...this.early, ...this.messageEarly]) {
      const s = r.policy.filters[e.filter];
      if (!s?.enabled) {
        r.trace.unshift({ filter: e.filter, stage: e.stage, ran: false, reason: s?.offReason ?? "disabled" });
        continue;
      }
      r.trace.unshift(e.trace);
      r.symbols.push(...e.symbols.map((x) => ({ ...x, filter: e.filter })));
      r.headers.push(...e.headers);
      if (e.action) r.actions.push({ ...e.action, filter: e.filter });
    }
  }

  private async runForRecipients(stage: Stage, rcpts: RecipientState[]): Promise<void> {
    const tx = this.tx!;
    const policy = rcpts[0]?.policy ?? this.connPolicy;
    for (const f of this.sorted(stage, policy)) {
      // The order used: this stage's filters sorted by the (first recipient's) policy priorities.
      const priority = policy.filters[f.name]?.priority ?? f.priority;
      const needing: RecipientState[] = [];
      for (const r of rcpts) {
        const s = r.policy.filters[f.name];
        const skip = r.skipGroups.get(f.group);
        const final = r.actions.find((a) => isFinal(a.type));
        let reason: string | null = null;
        if (!s?.enabled) reason = s?.offReason ?? "disabled";
        else if (skip) reason = skip;
        else if (final) reason = `earlier final action (${final.type} by ${final.filter})`;
        if (reason) r.trace.push({ filter: f.name, stage, ran: false, reason });
        else needing.push(r);
      }
      if (needing.length === 0) continue;
      const settings = needing[0]!.policy.filters[f.name]!;
      const timeout = Math.max(...needing.map((r) => r.policy.filters[f.name]!.timeoutMs));
      const run = await runFilter(
        f,
        {
          stage,
          envelope: tx.envelope,
          tx: stage === "data" ? tx : null,
          recipients: needing.map((r) => ({ address: r.address, policy: r.policy })),
          options: settings.options,
          earlier: needing[0]!.symbols,
          earlierFor: (a) => needing.find((r) => r.address === a.toLowerCase())?.symbols ?? [],
          history: this.history,
          sender: this.sender,
          log: this.deps.log,
        },
        timeout,
      );
      this.observe(f.name, run.ms, run.error);
      for (const r of needing) {
        const res = run.error
          ? this.errorResult(f.name, run.error, r.policy.filters[f.name]!.onError)
          : forRecipient(run.result, r.address);
        apply(r, f.name, res);
        r.trace.push({
          filter: f.name,
          stage,
          ran: true,
          ms: round(run.ms),
          symbols: (res.symbols ?? []).map((s) => s.name),
          ...(res.action ? { action: res.action.type } : {}),
          ...(run.error ? { error: run.error.message } : {}),
          ...(res.note ? { note: res.note } : {}),
          priority,
        });
      }
    }
  }

  private errorResult(
    filter: string,
    error: Error,
    onError: "tempfail" | "accept" | "reject",
  ): RecipientResult {
    this.deps.log.warn({ id: this.tx?.id, filter, err: error.message }, "filter failed");
    const action = onErrorAction(onError, filter);
    return {
      symbols: [{ name: errorSymbol(filter), score: 0, detail: error.message }],
      ...(action ? { action } : {}),
    };
  }

  private observe(filter: string, ms: number, error: Error | null): void {
    this.deps.metrics.filterSeconds.observe({ filter }, ms / 1000);
    if (error) this.deps.metrics.filterErrors.inc({ filter });
    this.filterMs.set(filter, (this.filterMs.get(filter) ?? 0) + ms);
  }

  /** A recipient refused at RCPT: a log line and a counter now, its message-log entry with the transaction's. */
  private refuseRecipient(
    address: string,
    action: "reject" | "tempfail",
    reply: SmtpReply,
    symbols: SymbolHit[],
    trace: TraceEntry[],
  ): void {
    const text = formatReply(reply);
    this.refused.push({
      address: address.toLowerCase(),
      action,
      score: round(symbols.reduce((n, s) => n + (s.score ?? 0), 0)),
      symbols,
      trace,
      reply: text,
      stage: "rcpt",
    });
    this.deps.metrics.messages.inc({ action });
    this.countRefusal("rcpt", reply);
    this.deps.log.info(
      { id: this.tx?.id, rcpt: address.toLowerCase(), reply: text, symbols: symbols.map((s) => s.name) },
      "recipient refused",
    );
  }

  private countRefusal(stage: string, reply: SmtpReply): void {
    this.deps.metrics.refusals.inc({ stage, class: `${String(reply.code)[0]}xx` });
  }

  async noteCommitRefusal(reply: SmtpReply): Promise<void> {
    const text = formatReply(reply);
    this.countRefusal("commit", reply);
    this.deps.log.info({ id: this.tx?.id, reply: text }, "message refused at commit");
    for (const e of this.written) {
      const recipients = e.recipients.map((r) => (r.stage ? r : { ...r, reply: text, stage: "commit" }));
      await this.deps.store
        ?.updateLogRecipients(e.id, recipients)
        .catch((err: Error) =>
          this.deps.log.error({ id: e.id, err: err.message }, "message log update failed"),
        );
    }
  }

  noteRefusal(stage: string, reply: SmtpReply): void {
    if (!this.tx || this.logged) return;
    this.refusal = { stage, reply, symbols: [], trace: [] };
    this.countRefusal(stage, reply);
  }

  /**
   * The message-log entries of a transaction that ended without a scanned message (refused at
   * MAIL, at DATA by the front end, or only refusals at RCPT): every reference id a client was
   * given finds its entry.
   */
  private async recordRefused(tx: Transaction): Promise<void> {
    this.logged = true;
    const r = this.refusal;
    let subject: string | null;
    try {
      subject = r?.stage === "data" ? tx.headers.decoded("Subject") : null;
    } catch {
      subject = null; // a header section cut short by the refusal
    }
    await this.recordRefusal(tx.id, tx.envelope, r, subject, tx.size, tx.receivedAt);
  }

  private async recordRefusal(
    ref: string,
    env: Envelope,
    r: MessageRefusal | null,
    subject: string | null,
    size: number,
    at = new Date(),
  ): Promise<void> {
    const verdicts: RecipientVerdict[] = [...this.refused];
    if (r) {
      const action = r.reply.code >= 500 ? "reject" : "tempfail";
      const text = formatReply(r.reply);
      const each = (address: string): RecipientVerdict => ({
        address,
        action,
        score: 0,
        symbols: r.symbols,
        trace: r.trace,
        reply: text,
        stage: r.stage,
      });
      const accepted = this.rcpts.map((x) => x.address);
      // Refused before any recipient was accepted: one line without an address.
      verdicts.push(...(accepted.length || verdicts.length ? accepted : [""]).map(each));
      this.deps.log.info(
        {
          id: ref,
          stage: r.stage,
          client: env.client.address,
          from: env.mailFrom?.address ?? "",
          reply: text,
        },
        "message refused",
      );
    }
    this.refused = [];
    this.refusal = null;
    if (verdicts.length) await this.writeLog(ref, env, verdicts, subject, size, at);
  }

  /** One summary line per message, and its entry in the message log. */
  private async record(tx: Transaction, result: DataResult): Promise<void> {
    const env = tx.envelope;
    this.deps.log.info(
      {
        id: tx.id,
        ingress: env.ingress,
        client: env.client.address,
        from: env.mailFrom?.address ?? "",
        auth: env.auth,
        size: tx.size,
        recipients: result.verdicts.map((v) => ({
          rcpt: v.address,
          action: v.action,
          score: v.score,
          symbols: v.symbols.map((s) => s.name),
        })),
        reply: result.reply ? `${result.reply.code} ${result.reply.enhanced}` : null,
        filter_ms: Object.fromEntries([...this.filterMs].map(([k, v]) => [k, round(v)])),
      },
      "message",
    );
    this.logged = true;
    const reply = result.reply ? formatReply(result.reply) : null;
    const verdicts = [
      ...this.refused,
      ...result.verdicts.map((v) => (reply ? { ...v, reply, stage: "data" } : v)),
    ];
    this.refused = [];
    await this.writeLog(tx.id, env, verdicts, tx.headers.decoded("Subject"), tx.size, tx.receivedAt);
  }

  private async writeLog(
    ref: string,
    env: Envelope,
    recipients: RecipientVerdict[],
    subject: string | null,
    size: number,
    at: Date,
  ): Promise<void> {
    if (!this.deps.store || env.ingress === "scan") return;
    // One entry per tenant, each with only its own recipients: `<ref>`, then `<ref>-T2` ….
    const byTenant = new Map<string | null, RecipientVerdict[]>();
    for (const v of recipients) {
      const t = this.deps.resolver.ownerOf(v.address, env);
      byTenant.set(t, [...(byTenant.get(t) ?? []), v]);
    }
    if (!byTenant.size) byTenant.set(this.deps.resolver.senderTenant(env)?.id ?? null, []);
    let n = 0;
    for (const [tenant, verdicts] of byTenant) {
      n++;
      try {
        this.written.push({ id: n === 1 ? ref : `${ref}-T${n}`, recipients: verdicts });
        await this.deps.store.logMessage({
          id: n === 1 ? ref : `${ref}-T${n}`,
          at,
          tenant,
          ingress: env.ingress,
          clientAddress: env.client.address,
          sender: env.mailFrom?.address ?? "",
          subject,
          size,
          recipients: verdicts,
        });
      } catch (err) {
        this.deps.log.error({ id: ref, err: (err as Error).message }, "message log write failed");
      }
    }
  }

  async reset(): Promise<void> {
    const tx = this.tx;
    if (tx && !this.logged && (this.refused.length || this.refusal)) await this.recordRefused(tx);
    this.logged = false;
    this.written = [];
    this.refused = [];
    this.refusal = null;
    this.senderInfo = null;
    this.tx = null;
    this.rcpts = [];
    this.messageEarly = [];
    this.filterMs.clear();
    this.envelope.mailFrom = null;
    this.envelope.recipients = [];
    await tx?.dispose();
  }

  async close(): Promise<void> {
    await this.reset();
  }
}

function forRecipient(result: FilterResult, address: string): RecipientResult {
  const own = result.recipients?.[address];
  if (!own) return result;
  return {
    symbols: [...(result.symbols ?? []), ...(own.symbols ?? [])],
    headers: [...(result.headers ?? []), ...(own.headers ?? [])],
    notify: [...(result.notify ?? []), ...(own.notify ?? [])],
    action: own.action ?? result.action,
    skip: [...(result.skip ?? []), ...(own.skip ?? [])],
    ...((own.note ?? result.note) ? { note: own.note ?? result.note } : {}),
  };
}

function dedupe(list: Notification[]): Notification[] {
  const seen = new Set<string>();
  return list.filter((n) => {
    const key = `${n.to.toLowerCase()}\0${n.message.length}\0${n.message.subarray(0, 256).toString("latin1")}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function apply(r: RecipientState, filter: string, res: RecipientResult): void {
  r.symbols.push(...(res.symbols ?? []).map((s): ScoredSymbol => ({ ...s, filter })));
  r.notify.push(...(res.notify ?? []));
  r.headers.push(...(res.headers ?? []));
  if (res.action) r.actions.push({ ...res.action, filter });
  for (const s of res.skip ?? []) r.skipGroups.set(s.group, s.reason);
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
