// One MTA milter connection: checks command order, feeds macros and commands into a Session
// (one per SMTP connection the MTA reports), and answers with milter replies.
// Trusts nothing from the socket: every packet is bounded and order-checked; bad input closes.
import type { Socket } from "node:net";
import type { Logger } from "pino";
import type { ConnectInfo, DataResult, Session, StageReply } from "../pipeline/session.ts";
import type { StoredCopy } from "../delivery/copies.ts";
import type { ExtraCopies } from "../delivery/reinject.ts";
import type { MessageWriter, Transaction } from "../message/transaction.ts";
import { MessageError } from "../message/errors.ts";
import { parseEsmtpParams, stripPath, type Ingress } from "../message/envelope.ts";
import { planEom, TOP_HEADERS, type QuarantineMode } from "./actions.ts";
import { decodeCommand, type Command } from "./commands.ts";
import { Cmd, Proto } from "./constants.ts";
import { ProtocolError } from "./errors.ts";
import { FrameReader, type Frame } from "./framing.ts";
import { MacroStore } from "./macros.ts";
import { forTcp, negotiate, noReplyFlag, type Negotiated, type Offer, type Wanted } from "./negotiation.ts";
import { encodeReply, isFinal, type Reply } from "./replies.ts";
import { HeaderBatch } from "./header-batch.ts";
import { DeferredRefusals, type DeferredStage } from "./deferred.ts";
import type { ProgressTicker, Waiting } from "./progress.ts";
import type { MilterMetrics } from "./metrics.ts";

/**
 * Durably store the quarantine/hold groups and hand the other delivery groups on (delivery/
 * reinject.ts); a throw makes the message tempfail with nothing left half-stored.
 */
export type CommitCopies = (tx: Transaction, result: DataResult, extra: ExtraCopies) => Promise<StoredCopy[]>;
/** Work after a message is committed (notifications); runs once the final reply is on its way. */
export type AfterCommit = (tx: Transaction, result: DataResult, copies: StoredCopy[]) => Promise<void>;

export interface ConnectionOptions {
  newSession: () => Session;
  commit: CommitCopies;
  logger: Logger;
  /** Sends SMFIR_PROGRESS while the MTA waits for an answer; null: never. */
  progress: ProgressTicker | null;
  quarantineMode: QuarantineMode;
  /** What to negotiate, asked at each OPTNEG so that a new configuration applies to new connections. */
  wanted: () => Wanted;
  /** Our host name when the MTA sends no `j` macro. */
  localName: string;
  /** Add trace headers (Authentication-Results, Received …) at the top with INSHEADER. */
  prependTraceHeaders: boolean;
  /** MTA listener name ({daemon_name}) → ingress, e.g. Postfix's "submission" → "submission". */
  daemonIngress: Readonly<Record<string, Ingress>>;
  /** Called after an accepted end of message once the reply is written; never awaited by the reply. */
  afterCommit?: AfterCommit;
  /** Commands received and answer times (sluice_milter_*); none in tests that do not ask. */
  metrics?: MilterMetrics;
}

type State = "negotiate" | "connect" | "conn" | "mail" | "rcpt" | "data" | "headers" | "body" | "closed";

const NO_TOP_HEADERS: ReadonlySet<string> = new Set();

const IN_MESSAGE: ReadonlySet<State> = new Set(["mail", "rcpt", "data", "headers", "body"]);

/** Which states each command may arrive in (libmilter's state table, ABORT/UNKNOWN lenient). */
const ALLOWED: Record<string, ReadonlySet<State>> = {
  optneg: new Set(["negotiate"]),
  connect: new Set(["connect"]),
  helo: new Set(["conn"]),
  mail: new Set(["conn"]),
  rcpt: new Set(["mail", "rcpt"]),
  data: new Set(["rcpt"]),
  header: new Set(["rcpt", "data", "headers"]),
  eoh: new Set(["rcpt", "data", "headers"]),
  body: new Set(["rcpt", "data", "headers", "body"]),
  eom: new Set(["rcpt", "data", "headers", "body"]),
};

// Header fields are handed to the intake in one piece per section, or per this many bytes.
const HEADER_FLUSH_BYTES = 64 * 1024;

const CONTINUE: Reply[] = [{ type: "continue" }];

/** Envelope stages whose refusal, when it cannot be sent (NR_*), is answered at end of message. */
const DEFERRABLE: ReadonlySet<Command["type"]> = new Set(["connect", "helo", "mail", "rcpt"]);

// Pause reading when this many bytes of packets wait (NR_* flags let the MTA send without
// waiting for us); resume below the low mark. Memory per connection stays near these bounds.
const QUEUE_HIGH_BYTES = 1024 * 1024;
const QUEUE_LOW_BYTES = 256 * 1024;

const PROGRESS = encodeReply({ type: "progress" });

export class MilterConnection implements Waiting {
  private readonly socket: Socket;
  private readonly opts: ConnectionOptions;
  private logger: Logger | null = null;
  private readonly reader = new FrameReader();
  private readonly macros = new MacroStore();
  private readonly queue: Frame[] = [];
  private queuedBytes = 0;
  private running = false;
  private state: State = "negotiate";
  private neg: Negotiated | null = null;
  private session: Session | null = null;
  private tlsSet = false;
  private authSet = false;
  /** Refusals of stages negotiated as no-reply, answered later. */
  private readonly deferred = new DeferredRefusals();
  // Per message.
  private readonly recipients = new Map<string, string>();
  private readonly headerCounts = new Map<string, number>();
  private readonly head = new HeaderBatch();
  private writer: MessageWriter | null = null;
  private eohWritten = false;
  private writeError: unknown = null;
  /** Set by an accepted end of message; started once its reply has been written. */
  private committed: { tx: Transaction; result: DataResult; copies: StoredCopy[] } | null = null;
  private draining = false;
  private released = false;
  private closeTimer: NodeJS.Timeout | null = null;
  /** Resolves once the socket is closed and the session released. */
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(socket: Socket, opts: ConnectionOptions) {
    this.socket = socket;
    this.opts = opts;
    this.done = new Promise((r) => (this.resolveDone = r));
    socket.on("data", (c: Buffer) => this.onData(c));
    socket.on("error", (err) => this.log.warn({ err }, "milter socket error"));
    socket.on("close", () => {
      if (this.closeTimer) clearTimeout(this.closeTimer);
      void this.release();
    });
  }

  // A child logger costs an object per connection; most connections never log.
  private get log(): Logger {
    return (this.logger ??= this.opts.logger.child({ milterPeer: this.socket.remoteAddress ?? "unix" }));
  }

  /** The per-message summary line, built only when info lines are written at all. */
  private info(fields: () => Record<string, unknown>, msg: string): void {
    if (this.opts.logger.isLevelEnabled("info")) this.log.info(fields(), msg);
  }

  /** Close once the current message is finished (graceful shutdown). */
  drain(): void {
    this.draining = true;
    if (!IN_MESSAGE.has(this.state) && !this.running) this.end();
  }

  private onData(chunk: Buffer): void {
    if (this.state === "closed") return;
    let frames: Frame[];
    try {
      frames = this.reader.push(chunk);
    } catch (err) {
      this.fail(err);
      return;
    }
    for (const f of frames) {
      this.queue.push(f);
      this.queuedBytes += f.data.length + 5;
    }
    if (this.queuedBytes > QUEUE_HIGH_BYTES) this.socket.pause();
    if (!this.running) void this.run();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0 && this.state !== "closed") {
        const f = this.queue.shift()!;
        this.queuedBytes -= f.data.length + 5;
        if (this.queuedBytes < QUEUE_LOW_BYTES && this.socket.isPaused()) this.socket.resume();
        const cmd = decodeCommand(f);
        this.opts.metrics?.command(cmd.type);
        const pending = this.handle(cmd);
        if (pending) await pending;
      }
    } catch (err) {
      this.fail(err);
    } finally {
      this.running = false;
    }
    if (this.draining && !IN_MESSAGE.has(this.state)) this.end();
  }

  private fail(err: unknown): void {
    if (err instanceof ProtocolError) {
      this.log.warn(
        { reason: err.reason, detail: err.message, state: this.state },
        "milter protocol error, closing",
      );
    } else {
      this.log.error({ err, state: this.state }, "milter connection failed, closing");
    }
    this.end();
  }

  private end(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.socket.end();
    // Do not wait forever for the MTA to close its side.
    this.closeTimer = setTimeout(() => this.socket.destroy(), 2000).unref();
    void this.release();
  }

  private async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.state = "closed";
    await this.endSession();
    this.resolveDone();
  }

  private async endSession(): Promise<void> {
    const s = this.session;
    this.session = null;
    if (!s) return;
    try {
      if (this.writer || s.tx) await s.reset();
      await s.close();
    } catch (err) {
      this.log.error({ err }, "session close failed");
    }
    this.resetMessage();
  }

  private expectsReply(type: Command["type"]): boolean {
    const flag = noReplyFlag(type);
    return flag !== 0 && (this.neg === null || (this.neg.protocol & flag) === 0);
  }

  /**
   * Run work for a command; keep the MTA waiting with PROGRESS; reply unless NR_* says not to.
   * A refusal that cannot be sent (no-reply stage) is kept and answered later.
   */
  private async answer(type: Command["type"], work: () => Promise<Reply[]>): Promise<void> {
    const reply = this.expectsReply(type) || type === "eom";
    const progress = reply ? this.opts.progress : null;
    const metrics = reply ? this.opts.metrics : undefined;
    const t0 = metrics ? performance.now() : 0;
    progress?.start(this);
    let out: Reply[];
    try {
      out = await work();
    } catch (err) {
      if (err instanceof ProtocolError) throw err;
      // A failing stage (directory down, scanner timeout) must not let mail through unscanned.
      this.log.error({ err, command: type }, "session call failed, answering tempfail");
      out = [{ type: "tempfail" }];
    } finally {
      progress?.stop(this);
    }
    const committed = this.committed;
    this.committed = null;
    if (!reply && DEFERRABLE.has(type)) {
      const refusal = out.find((r) => isFinal(r) && r.type !== "continue");
      if (refusal) this.defer(type as DeferredStage, refusal);
    }
    // One write per answer: an end-of-message answer can be many modification packets.
    if (reply && this.state !== "closed" && out.length > 0) {
      const bytes = out.length === 1 ? encodeReply(out[0]!) : Buffer.concat(out.map(encodeReply));
      // After-commit work starts only once the MTA has its answer; if it never got it, the
      // message is not committed.
      if (committed) this.socket.write(bytes, (err) => err || this.startAfterCommit(committed));
      else this.socket.write(bytes);
      metrics?.answered(type, (performance.now() - t0) / 1000);
    }
  }

  /** PROGRESS while the MTA waits (called by the server's ticker). */
  progress(): void {
    if (this.socket.writable) this.socket.write(PROGRESS);
  }

  private defer(stage: DeferredStage, refusal: Reply): void {
    this.log.warn(
      { stage, reply: refusal, queueId: this.macros.get("i") },
      "refusal at a no-reply stage, answered at end of message",
    );
    this.deferred.note(stage, refusal);
  }

  private startAfterCommit({ tx, result, copies }: NonNullable<typeof this.committed>): void {
    const hook = this.opts.afterCommit;
    if (!hook) return;
    void hook(tx, result, copies).catch((err: unknown) =>
      this.log.warn({ txId: tx.id, err: (err as Error).message }, "after-commit work failed"),
    );
  }

  private check(cmd: Command): void {
    const allowed = ALLOWED[cmd.type];
    if (allowed && !allowed.has(this.state)) {
      throw new ProtocolError("out-of-order", `${cmd.type.toUpperCase()} not allowed in state ${this.state}`);
    }
    if (this.state === "negotiate" && cmd.type !== "optneg" && cmd.type !== "macro") {
      throw new ProtocolError("out-of-order", `${cmd.type.toUpperCase()} before OPTNEG`);
    }
  }

  /** Returns a promise only for commands that wait for something (most packets do not). */
  private handle(cmd: Command): Promise<void> | void {
    // libmilter treats a new HELO or MAIL inside a transaction as an implicit abort.
    if ((cmd.type === "mail" || cmd.type === "helo") && IN_MESSAGE.has(this.state)) {
      return this.abort().then(() => this.handle(cmd));
    }
    this.check(cmd);
    switch (cmd.type) {
      case "optneg":
        return this.optneg(cmd);
      case "macro":
        this.macros.set(cmd.stage, cmd.macros);
        return;
      case "connect":
        return this.answer("connect", () => this.connect(cmd));
      case "helo":
        return this.answer("helo", async () => {
          this.applyTlsAuth();
          return [toReply(await this.sess().helo(cmd.name))];
        });
      case "mail":
        return this.answer("mail", () => this.mail(cmd.args));
      case "rcpt":
        return this.answer("rcpt", () => this.rcpt(cmd.args));
      case "data":
        this.state = "data";
        return this.expectsReply("data") ? this.answer("data", async () => CONTINUE) : undefined;
      case "header": {
        this.state = "headers";
        const flush = this.header(cmd.name, cmd.value);
        if (this.expectsReply("header")) return this.answer("header", async () => (await flush, CONTINUE));
        return flush;
      }
      case "eoh":
        this.state = "body";
        return this.answer("eoh", async () => {
          await this.writeEoh();
          return CONTINUE;
        });
      case "body":
        this.state = "body";
        return this.answer("body", () => this.body(cmd.chunk));
      case "eom":
        return this.answer("eom", () => this.eom(cmd.chunk));
      case "abort":
        return IN_MESSAGE.has(this.state) ? this.abort() : undefined;
      case "quit":
        return this.endSession().then(() => this.end());
      case "quit_nc":
        if (this.state === "negotiate" || this.state === "connect") {
          throw new ProtocolError("out-of-order", `QUIT_NC in state ${this.state}`);
        }
        return this.endSession().then(() => {
          this.macros.clear();
          this.deferred.newSession();
          this.state = "connect";
        });
      case "unknown":
        if (this.state === "connect") throw new ProtocolError("out-of-order", "UNKNOWN before CONNECT");
        return this.expectsReply("unknown") ? this.answer("unknown", async () => CONTINUE) : undefined;
    }
  }

  private optneg(cmd: Extract<Command, { type: "optneg" }>): void {
    // A unix-socket peer has no remote family.
    const tcp = this.socket.remoteFamily !== undefined;
    const wanted = this.opts.wanted();
    const { neg, reply } = negotiated(cmd, tcp ? forTcp(wanted) : wanted);
    this.neg = neg;
    this.reader.maxData = neg.maxData;
    if (this.opts.logger.isLevelEnabled("debug")) {
      this.log.debug(
        { version: neg.version, actions: neg.actions, protocol: neg.protocol },
        "milter negotiated",
      );
    }
    this.socket.write(reply);
    this.state = "connect";
  }

  private sess(): Session {
    if (!this.session) throw new ProtocolError("out-of-order", "no SMTP session");
    return this.session;
  }

  private async connect(cmd: Extract<Command, { type: "connect" }>): Promise<Reply[]> {
    this.state = "conn";
    this.tlsSet = false;
    this.authSet = false;
    this.deferred.newSession();
    this.session = this.opts.newSession();
    const portMacro = Number(this.macros.get("client_port"));
    const address = cmd.address ?? this.macros.get("client_addr") ?? "";
    const name = this.macros.get("client_name") ?? cmd.hostname;
    const daemon = this.macros.get("daemon_name");
    const info: ConnectInfo = {
      ingress: (daemon && this.opts.daemonIngress[daemon]) || "milter",
      // A unix-socket client is on this host; its socket path is no client address.
      address: cmd.family === "L" ? (this.macros.get("client_addr") ?? "127.0.0.1") : address,
      localName: this.macros.get("j") ?? this.opts.localName,
    };
    if (cmd.port) info.port = cmd.port;
    else if (Number.isInteger(portMacro) && portMacro > 0) info.port = portMacro;
    // Postfix reports an unresolved client as "unknown" or as the bracketed address.
    if (name && name !== "unknown" && !name.startsWith("[")) info.name = name;
    return [toReply(await this.session.connect(info))];
  }

  /** TLS and AUTH are known from macros only (HELO onwards, MAIL onwards). */
  private applyTlsAuth(): void {
    const s = this.sess();
    const version = this.macros.get("tls_version");
    const cipher = this.macros.get("cipher");
    if (!this.tlsSet && version && cipher) {
      s.setTls(version, cipher);
      this.tlsSet = true;
    }
    const login = this.macros.get("auth_authen");
    if (!this.authSet && login) {
      s.setAuth(login);
      this.authSet = true;
    }
  }

  private async mail(args: string[]): Promise<Reply[]> {
    this.applyTlsAuth();
    this.resetMessage();
    // A refused connection (CONNECT/HELO at a no-reply stage) refuses each of its messages.
    const refused = this.deferred.envelope;
    if (refused) {
      this.state = "mail";
      return [refused];
    }
    const r = await this.sess().mail(stripPath(args[0]!), parseEsmtpParams(args.slice(1)));
    // Without a reply to MAIL the MTA goes on with RCPT: follow it, the refusal comes at the end.
    this.state = r.ok || !this.expectsReply("mail") ? "mail" : "conn";
    return [toReply(r)];
  }

  private async rcpt(args: string[]): Promise<Reply[]> {
    this.state = "rcpt";
    const neg = this.neg!;
    // With RCPT_REJ the MTA also reports recipients it rejected itself; they are not ours.
    if (neg.protocol & Proto.RCPT_REJ && this.macros.get("rcpt_mailer") === "error") return CONTINUE;
    const refused = this.deferred.envelope;
    if (refused) return [refused];
    const address = stripPath(args[0]!);
    const r = await this.sess().rcpt(address, parseEsmtpParams(args.slice(1)));
    if (r.ok) {
      this.recipients.set(address, args[0]!);
      this.deferred.recipientAccepted();
    }
    return [toReply(r)];
  }

  private async write(chunk: Buffer): Promise<void> {
    // A message already refused (intake error, or a deferred refusal) is read and dropped.
    if (this.writeError || this.deferred.refused) return;
    const s = this.sess();
    try {
      this.writer ??= s.beginData();
      await this.writer.write(chunk);
    } catch (err) {
      // Keep reading the message so the protocol stays in step; answer at end of message.
      this.writeError = err;
    }
  }

  /** Batched: the intake gets the header section in one write (at EOH, or every 64 KiB). */
  private header(name: string, value: Buffer): Promise<void> | undefined {
    const key = name.toLowerCase();
    this.headerCounts.set(key, (this.headerCounts.get(key) ?? 0) + 1);
    this.head.add(name, value, (this.neg!.protocol & Proto.HDR_LEADSPC) !== 0);
    return this.head.size >= HEADER_FLUSH_BYTES ? this.write(this.head.take(false)) : undefined;
  }

  /** The end of the header section: EOH, or (SMFIP_NOEOH) the first body chunk or EOM. */
  private async writeEoh(): Promise<void> {
    if (this.eohWritten) return;
    this.eohWritten = true;
    await this.write(this.head.take(true));
  }

  private async body(chunk: Buffer): Promise<Reply[]> {
    await this.writeEoh();
    await this.write(chunk);
    if (this.writeError && this.neg!.protocol & Proto.SKIP) return [{ type: "skip" }];
    return [{ type: "continue" }];
  }

  private async eom(chunk: Buffer): Promise<Reply[]> {
    const s = this.sess();
    await this.writeEoh();
    if (chunk.length > 0) await this.write(chunk);
    const refused = this.deferred.atEndOfMessage();
    if (refused) {
      this.info(
        () => ({ queueId: this.macros.get("i"), reply: refused }),
        "milter message answered (deferred refusal)",
      );
      await this.finishMessage();
      return [refused];
    }
    try {
      if (!this.writeError) await this.writer!.end();
      if (this.writeError) return [errorReply(this.writeError, this.log)];
      const result = await s.data();
      const tx = s.tx;
      if (!tx) throw new Error("session has no transaction after data()");
      const plan = planEom(result, {
        recipients: this.recipients,
        headerCounts: this.headerCounts,
        leadSpace: (this.neg!.protocol & Proto.HDR_LEADSPC) !== 0,
        actions: this.neg!.actions,
        quarantineMode: this.opts.quarantineMode,
        topHeaders: this.opts.prependTraceHeaders ? TOP_HEADERS : NO_TOP_HEADERS,
        insertTop: this.opts.prependTraceHeaders,
      });
      const queueId = () => this.macros.get("i");
      if (plan.kind === "reply") {
        this.info(
          () => ({ queueId: queueId(), txId: tx.id, reply: plan.final, reason: plan.reason }),
          "milter message answered",
        );
        return [plan.final];
      }
      // Durable first: nothing is acknowledged that is not stored or handed on.
      const copies =
        plan.store.length || plan.reinject.length
          ? await this.opts.commit(tx, result, { store: plan.store, reinject: plan.reinject })
          : [];
      this.info(
        () => ({
          queueId: queueId(),
          txId: tx.id,
          final: plan.final.type,
          mods: plan.mods.length,
          stored: plan.store.length,
          reinjected: plan.reinject.length,
        }),
        "milter message done",
      );
      this.committed = { tx, result, copies };
      return [...plan.mods, plan.final];
    } catch (err) {
      return [errorReply(err, this.log)];
    } finally {
      await this.finishMessage();
    }
  }

  private async abort(): Promise<void> {
    await this.finishMessage();
    this.macros.clearFrom(Cmd.MAIL);
  }

  private async finishMessage(): Promise<void> {
    this.state = "conn";
    this.resetMessage();
    try {
      await this.session?.reset();
    } catch (err) {
      this.log.error({ err }, "session reset failed");
    }
  }

  private resetMessage(): void {
    this.recipients.clear();
    this.headerCounts.clear();
    this.head.clear();
    this.deferred.newMessage();
    this.writer = null;
    this.eohWritten = false;
    this.writeError = null;
  }
}

// Every connection of an MTA makes the same offer: the answer is worked out and encoded once per
// configuration (Wanted) and offer.
const answers = new WeakMap<Wanted, Map<string, { neg: Negotiated; reply: Buffer }>>();

function negotiated(offer: Offer, wanted: Wanted): { neg: Negotiated; reply: Buffer } {
  let byOffer = answers.get(wanted);
  if (!byOffer) answers.set(wanted, (byOffer = new Map()));
  const key = `${offer.version}/${offer.actions}/${offer.protocol}`;
  let a = byOffer.get(key);
  if (!a) {
    const neg = negotiate(offer, wanted);
    const reply = encodeReply({ type: "optneg", ...neg });
    a = { neg, reply };
    if (byOffer.size < 16) byOffer.set(key, a);
  }
  return a;
}

function toReply(r: StageReply): Reply {
  if (r.ok) return { type: "continue" };
  return { type: "replycode", code: r.reply.code, enhanced: r.reply.enhanced, text: r.reply.text };
}

/** Intake errors carry their own SMTP reply; anything else fails temporarily. */
function errorReply(err: unknown, log: Logger): Reply {
  if (err instanceof MessageError) {
    log.info({ err: err.message }, "message refused at intake");
    return { type: "replycode", code: err.code, enhanced: err.enhanced, text: err.message };
  }
  log.error({ err }, "milter end of message failed, answering tempfail");
  return { type: "tempfail" };
}
