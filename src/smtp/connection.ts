// One SMTP connection of the proxy: command parsing, EHLO extensions, STARTTLS, AUTH,
// relay control, and the DATA phase; every step goes through the pipeline Session.
// Trusts nothing from the client; every refusal is a specific reply with an enhanced code.
import { TLSSocket, type SecureContext } from "node:tls";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import type { Runtime } from "../runtime.ts";
import type { SmtpConfig } from "../config/schema.ts";
import { parseEsmtpParams, stripPath } from "../message/envelope.ts";
import { MessageError } from "../message/errors.ts";
import type { Session } from "../pipeline/session.ts";
import type { SmtpReply } from "../message/types.ts";
import { DirectoryError } from "../policy/directory.ts";
import type { User } from "../message/types.ts";
import { AuthLimiter, decodeBase64Line, decodePlain, type Credentials } from "./auth.ts";
import { commitOutcome } from "../delivery/commit.ts";
import { quarantineIdOf } from "../delivery/copies.ts";
import { BareLineEndError, InputTimeoutError, LineTooLongError, SmtpInput } from "./input.ts";
import { ProxyProtocolError, readProxyHeader } from "./proxy-protocol.ts";
import { PendingCommit, pendingDir } from "./pending.ts";
import { faultPoint } from "../fault.ts";
import { receivedHeader } from "./received.ts";
import { pregreetRefusal, type Pregreet } from "./pregreet.ts";
import { sendAfterCommit } from "../delivery/notify-after.ts";
import { NextHopNotificationSender } from "../delivery/nexthop/notification-sender.ts";
import type { Routes } from "../delivery/nexthop/route.ts";

export type ListenerKind = "inbound" | "submission" | "submissions";

export interface ListenerContext {
  kind: ListenerKind;
  runtime: Runtime;
  tls: SecureContext | null;
  implicitTls: boolean;
  proxyProtocol: boolean;
  allowInsecureAuth: boolean;
  limiter: AuthLimiter;
  routes: Routes;
  smtp: SmtpConfig;
  log: Logger;
  /** The pregreet test of the inbound listener (absent: none). */
  pregreet?: Pregreet;
  /** Called with the code of every reply sent (metrics). */
  replied?: (code: number) => void;
}

class Closed extends Error {}

const TIMEOUT_REPLY: Record<InputTimeoutError["phase"], SmtpReply> = {
  idle: { code: 421, enhanced: "4.4.2", text: "Idle timeout, closing connection" },
  command: { code: 421, enhanced: "4.4.2", text: "Command line timeout, closing connection" },
  data: { code: 421, enhanced: "4.4.2", text: "Data rate too low, closing connection" },
};

const r = (code: number, enhanced: string, text: string): SmtpReply => ({ code, enhanced, text });

export class SmtpConnection {
  private input: SmtpInput;
  private socket: Duplex;
  private readonly raw: Socket;
  private readonly ctx: ListenerContext;
  private readonly session: Session;
  private readonly log: Logger;
  private out: string[] = [];
  private tlsUp: boolean;
  private helo: string | null = null;
  private user: User | null = null;
  private inMail = false;
  private rcptCount = 0;
  private commands = 0;
  private errors = 0;
  private client: { address: string; port: number };
  private closed = false;

  constructor(socket: Socket, ctx: ListenerContext) {
    this.raw = socket;
    this.socket = socket;
    this.ctx = ctx;
    this.tlsUp = ctx.implicitTls;
    this.session = ctx.runtime.newSession();
    this.client = { address: normalizeIp(socket.remoteAddress ?? "0.0.0.0"), port: socket.remotePort ?? 0 };
    this.log = ctx.log.child({ listener: ctx.kind, client: this.client.address });
    const limits = ctx.smtp.limits;
    this.input = new SmtpInput(socket, limits.max_line_length);
    this.input.deadlines = {
      idleMs: limits.idle_timeout_s * 1000,
      lineMs: limits.command_timeout_s * 1000,
      dataMs: limits.data_timeout_s * 1000,
      minDataRate: limits.min_data_rate,
    };
  }

  private reply(rep: SmtpReply | string): void {
    this.out.push(typeof rep === "string" ? rep : `${rep.code} ${rep.enhanced} ${rep.text}`);
    this.ctx.replied?.(typeof rep === "string" ? Number(rep.slice(0, 3)) : rep.code);
  }

  /** A refusal of the message this connection makes itself: the pipeline logs and counts it. */
  private refuse(rep: SmtpReply): void {
    this.session.noteRefusal?.("data", rep);
    this.reply(rep);
  }

  private flush(written?: () => void): void {
    if (!this.out.length || this.closed) return;
    this.socket.write(this.out.join("\r\n") + "\r\n", written && (() => written()));
    this.out = [];
  }

  /** Say goodbye with a 421 and close. */
  close(rep?: SmtpReply): void {
    if (this.closed) return;
    if (rep) this.reply(rep);
    this.flush();
    this.closed = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  async run(): Promise<void> {
    const limits = this.ctx.smtp.limits;
    // Client time limits are per record (SmtpInput.deadlines), never reset by a single byte.
    const total = setTimeout(
      () => this.close(r(421, "4.4.2", "Session time limit exceeded, closing connection")),
      limits.session_timeout_s * 1000,
    );
    try {
      if (this.ctx.proxyProtocol) {
        const proxied = await readProxyHeader(this.input);
        if (proxied) this.client = { address: normalizeIp(proxied.address), port: proxied.port };
      }
      const c = await this.session.connect({
        ingress: this.ctx.kind,
        address: this.client.address,
        port: this.client.port,
        localName: this.ctx.smtp.hostname,
      });
      if (this.tlsUp) this.noteTls(this.raw as unknown as TLSSocket);
      if (!c.ok) {
        this.close({ ...c.reply, code: c.reply.code >= 500 ? 554 : 421 });
        return;
      }
      if (!(await this.pregreet())) return;
      this.reply(`220 ${this.ctx.smtp.hostname} ESMTP Sluice`);
      this.flush();
      await this.loop();
    } catch (err) {
      if (err instanceof InputTimeoutError) {
        this.log.warn({ phase: err.phase, id: this.session.tx?.id }, "client too slow, closing");
        this.close(TIMEOUT_REPLY[err.phase]);
      } else if (err instanceof ProxyProtocolError) {
        this.log.warn({ err: err.message }, "bad PROXY header");
        this.close(r(421, "4.7.0", "Bad PROXY protocol header"));
      } else if (!(err instanceof Closed)) {
        this.log.error({ err: (err as Error).stack }, "connection failed");
        this.close(r(421, "4.3.0", "Internal error, closing connection"));
      }
    } finally {
      clearTimeout(total);
      await this.session.close().catch(() => undefined);
      this.close();
    }
  }

  /** Postscreen's pregreet test on the inbound listener; false: the connection is over. */
  private async pregreet(): Promise<boolean> {
    const settings = this.ctx.kind === "inbound" ? this.ctx.smtp.listeners.inbound.pregreet : undefined;
    if (!settings?.enabled || !this.ctx.pregreet) return true;
    const outcome = await this.ctx.pregreet.check(
      settings,
      this.input,
      this.client.address,
      this.ctx.smtp.hostname,
      (line) => this.socket.write(`${line}\r\n`),
      this.log,
    );
    if (outcome === "closed") {
      this.close();
      return false;
    }
    if (outcome === "talked" && settings.action === "reject") {
      const reply = pregreetRefusal();
      this.log.info({ reply: `${reply.code} ${reply.enhanced} ${reply.text}` }, "pregreet: refused");
      this.close(reply);
      return false;
    }
    return true;
  }

  private async loop(): Promise<void> {
    const limits = this.ctx.smtp.limits;
    while (!this.closed) {
      if (this.input.pending === 0) this.flush();
      let line: string | null;
      try {
        line = await this.input.readLine();
      } catch (err) {
        if (err instanceof BareLineEndError) {
          this.log.warn({ err: err.message }, "bare line end in command");
          this.close(r(500, "5.5.2", "Bare <CR> or <LF> in command; closing connection"));
          return;
        }
        if (err instanceof LineTooLongError) {
          this.reply(r(500, "5.5.2", "Line too long"));
          if (++this.errors >= limits.max_errors)
            this.close(r(421, "4.7.0", "Too many errors, closing connection"));
          continue;
        }
        throw err;
      }
      if (line === null || this.closed) return;
      if (++this.commands > limits.max_commands) {
        this.close(r(421, "4.7.0", "Too many commands, closing connection"));
        return;
      }
      const before = this.out.length;
      await this.command(line);
      const last = this.out[this.out.length - 1];
      if (this.out.length > before && last && /^5\d\d/.test(last) && ++this.errors >= limits.max_errors) {
        this.close(r(421, "4.7.0", "Too many errors, closing connection"));
      }
    }
  }

  private async command(line: string): Promise<void> {
    const sp = line.indexOf(" ");
    const verb = (sp === -1 ? line : line.slice(0, sp)).toUpperCase();
    const arg = sp === -1 ? "" : line.slice(sp + 1);
    switch (verb) {
      case "EHLO":
      case "HELO":
        return this.ehlo(verb, arg.trim());
      case "STARTTLS":
        return this.starttls(arg);
      case "AUTH":
        return this.auth(arg);
      case "MAIL":
        return this.mail(arg);
      case "RCPT":
        return this.rcpt(arg);
      case "DATA":
        return this.data(arg);
      case "RSET":
        await this.resetTransaction();
        return this.reply(r(250, "2.0.0", "Ok"));
      case "NOOP":
        return this.reply(r(250, "2.0.0", "Ok"));
      case "VRFY":
        return this.reply(r(252, "2.5.0", "Cannot VRFY user, but will accept message"));
      case "HELP":
        return this.reply(r(214, "2.0.0", "See RFC 5321"));
      case "QUIT":
        this.close(r(221, "2.0.0", "Bye"));
        return;
      case "BDAT":
        return this.reply(r(502, "5.5.1", "BDAT not supported"));
      default:
        return this.reply(r(500, "5.5.1", "Command not recognized"));
    }
  }

  private get authAllowed(): boolean {
    return this.ctx.kind !== "inbound" && (this.tlsUp || this.ctx.allowInsecureAuth);
  }

  private async ehlo(verb: string, name: string): Promise<void> {
    if (!name || /\s/.test(name)) return this.reply(r(501, "5.5.4", `Syntax: ${verb} hostname`));
    await this.resetTransaction();
    const res = await this.session.helo(name);
    if (!res.ok) return this.reply(res.reply);
    this.helo = name;
    if (verb === "HELO") return this.reply(`250 ${this.ctx.smtp.hostname}`);
    const ext = [
      this.ctx.smtp.hostname,
      "PIPELINING",
      `SIZE ${this.ctx.runtime.config.limits.message_bytes}`,
      "8BITMIME",
      "SMTPUTF8",
      "ENHANCEDSTATUSCODES",
      "DSN",
      ...(this.ctx.tls && !this.tlsUp ? ["STARTTLS"] : []),
      ...(this.authAllowed && !this.user ? ["AUTH PLAIN LOGIN"] : []),
    ];
    ext.forEach((e, i) => this.reply(`250${i === ext.length - 1 ? " " : "-"}${e}`));
  }

  private async starttls(arg: string): Promise<void> {
    if (arg) return this.reply(r(501, "5.5.4", "Syntax: STARTTLS"));
    if (!this.ctx.tls || this.tlsUp) return this.reply(r(454, "4.7.0", "TLS not available"));
    this.reply(r(220, "2.0.0", "Ready to start TLS"));
    this.flush();
    // Anything pipelined after STARTTLS arrived in plaintext: it must not run inside TLS.
    const injected = this.input.discard();
    if (injected) this.log.warn({ bytes: injected }, "discarded input pipelined after STARTTLS");
    const secure = new TLSSocket(this.raw, { isServer: true, secureContext: this.ctx.tls });
    // The handshake is one more record with a deadline: a stalled one must not hold the slot.
    const handshake = setTimeout(
      () => secure.destroy(new Error("TLS handshake timeout")),
      this.ctx.smtp.limits.command_timeout_s * 1000,
    );
    await new Promise<void>((resolve, reject) => {
      secure.once("secure", resolve);
      secure.once("error", reject);
    })
      .finally(() => clearTimeout(handshake))
      .catch((err: Error) => {
        this.log.warn({ err: err.message }, "TLS handshake failed");
        this.closed = true;
        throw new Closed();
      });
    this.input.replaceSocket(secure);
    this.socket = secure;
    this.tlsUp = true;
    this.noteTls(secure);
    this.helo = null;
    this.user = null;
    await this.resetTransaction();
  }

  private noteTls(s: TLSSocket): void {
    const cipher = s.getCipher?.();
    this.session.setTls(s.getProtocol?.() ?? "TLS", cipher?.name ?? "unknown");
  }

  private async auth(arg: string): Promise<void> {
    if (this.ctx.kind === "inbound") return this.reply(r(502, "5.5.1", "AUTH not available on this port"));
    if (!this.authAllowed)
      return this.reply(r(538, "5.7.11", "Encryption required for requested authentication mechanism"));
    if (!this.helo) return this.reply(r(503, "5.5.1", "Send EHLO first"));
    if (this.user) return this.reply(r(503, "5.5.1", "Already authenticated"));
    if (this.inMail) return this.reply(r(503, "5.5.1", "AUTH not allowed during a mail transaction"));
    const [mech = "", initial] = arg.split(" ");
    let creds: Credentials | null;
    if (mech.toUpperCase() === "PLAIN") {
      let resp = initial;
      if (resp === undefined) {
        this.reply("334 ");
        this.flush();
        resp = (await this.input.readLine()) ?? "";
      }
      if (resp === "*") return this.reply(r(501, "5.0.0", "Authentication cancelled"));
      creds = decodePlain(resp);
    } else if (mech.toUpperCase() === "LOGIN") {
      let login = initial === undefined ? undefined : decodeBase64Line(initial);
      if (login === undefined) {
        this.reply("334 VXNlcm5hbWU6");
        this.flush();
        const l = (await this.input.readLine()) ?? "";
        if (l === "*") return this.reply(r(501, "5.0.0", "Authentication cancelled"));
        login = decodeBase64Line(l);
      }
      this.reply("334 UGFzc3dvcmQ6");
      this.flush();
      const p = (await this.input.readLine()) ?? "";
      if (p === "*") return this.reply(r(501, "5.0.0", "Authentication cancelled"));
      const secret = decodeBase64Line(p);
      creds = login && secret !== null ? { login, secret } : null;
    } else {
      return this.reply(r(504, "5.5.4", "Unrecognized authentication mechanism"));
    }
    if (!creds) return this.reply(r(501, "5.5.2", "Cannot decode response"));
    const ip = this.client.address;
    if (await this.ctx.limiter.blocked(ip, creds.login)) {
      this.log.warn({ user: creds.login }, "authentication refused: too many failures");
      this.close(r(421, "4.7.0", "Too many failed authentications, try again later"));
      return;
    }
    let user: User | null;
    try {
      user = await this.ctx.runtime.directory.authenticate(creds.login, creds.secret);
    } catch (err) {
      if (err instanceof DirectoryError)
        return this.reply(r(454, "4.7.0", "Temporary authentication failure"));
      throw err;
    }
    if (!user) {
      const delay = await this.ctx.limiter.fail(ip, creds.login);
      this.log.warn({ user: creds.login, delay_ms: delay }, "authentication failed");
      await new Promise((res) => setTimeout(res, delay));
      return this.reply(r(535, "5.7.8", "Authentication credentials invalid"));
    }
    await this.ctx.limiter.succeed(ip, creds.login);
    this.user = user;
    this.session.setAuth(user.address);
    this.log.info({ user: user.address }, "authenticated");
    this.reply(r(235, "2.7.0", "Authentication successful"));
  }

  private async mail(arg: string): Promise<void> {
    const m = /^FROM:\s*(<[^>]*>|\S+)(.*)$/i.exec(arg);
    if (!m) return this.reply(r(501, "5.5.4", "Syntax: MAIL FROM:<address>"));
    if (!this.helo) return this.reply(r(503, "5.5.1", "Send EHLO first"));
    if (this.inMail) return this.reply(r(503, "5.5.1", "Nested MAIL command"));
    if (this.ctx.kind !== "inbound" && !this.user)
      return this.reply(r(530, "5.7.0", "Authentication required"));
    const address = stripPath(m[1]!);
    const params = parseEsmtpParams(m[2]!.trim().split(/\s+/));
    const bad = this.checkAddress(address, params.SMTPUTF8 !== undefined, true);
    if (bad) return this.reply(bad);
    if (typeof params.SIZE === "string" && !/^\d+$/.test(params.SIZE))
      return this.reply(r(501, "5.5.4", "Bad SIZE parameter"));
    if (params.BODY !== undefined && !/^(7BIT|8BITMIME)$/i.test(String(params.BODY))) {
      return this.reply(r(501, "5.5.4", "Unsupported BODY parameter"));
    }
    if (this.user) {
      const allowed = new Set(
        [this.user.address, ...this.user.aliases, ...this.user.sendAs].map((a) => a.toLowerCase()),
      );
      if (!allowed.has(address.toLowerCase())) {
        this.log.warn({ user: this.user.address, from: address }, "sender login mismatch");
        return this.reply(r(553, "5.7.1", `Sender address rejected: not owned by user ${this.user.address}`));
      }
    }
    const res = await this.session.mail(address, params);
    if (!res.ok) return this.reply(res.reply);
    this.inMail = true;
    this.rcptCount = 0;
    this.reply(r(250, "2.1.0", "Ok"));
  }

  private checkAddress(address: string, utf8: boolean, sender: boolean): SmtpReply | null {
    if (address === "" && sender) return null;
    if (!/^[^\s@<>]+@[^\s@<>]+$/.test(address) || address.length > 254) {
      return r(501, sender ? "5.1.7" : "5.1.3", "Bad address syntax");
    }
    if (!utf8 && /[^\x20-\x7e]/.test(address)) return r(553, "5.6.7", "Non-ASCII address needs SMTPUTF8");
    return null;
  }

  private async rcpt(arg: string): Promise<void> {
    const m = /^TO:\s*(<[^>]*>|\S+)(.*)$/i.exec(arg);
    if (!m) return this.reply(r(501, "5.5.4", "Syntax: RCPT TO:<address>"));
    if (!this.inMail) return this.reply(r(503, "5.5.1", "Need MAIL command"));
    const address = stripPath(m[1]!);
    const params = parseEsmtpParams(m[2]!.trim().split(/\s+/));
    const utf8 = this.session.tx?.envelope.mailFrom?.params.SMTPUTF8 !== undefined;
    const bad = this.checkAddress(address, utf8, false);
    if (bad) return this.reply(bad);
    if (this.rcptCount >= this.ctx.smtp.limits.max_recipients)
      return this.reply(r(452, "4.5.3", "Too many recipients"));
    const relay = await this.relayCheck(address);
    if (relay) return this.reply(relay);
    const res = await this.session.rcpt(address, params);
    if (!res.ok) return this.reply(res.reply);
    this.rcptCount++;
    this.reply(r(250, "2.1.5", "Ok"));
  }

  /** Never an open relay: inbound takes only our domains; submission relays only after AUTH. */
  private async relayCheck(address: string): Promise<SmtpReply | null> {
    const resolver = this.ctx.runtime.resolver;
    const local = resolver.isLocal(address);
    if (!local) return this.user ? null : r(550, "5.7.1", "Relay access denied");
    const tenant = resolver.tenantFor(address);
    if (!tenant?.verify_recipients) return null;
    try {
      const user = await this.ctx.runtime.directory.lookup(address);
      return user ? null : r(550, "5.1.1", "Recipient address rejected: user unknown");
    } catch (err) {
      if (err instanceof DirectoryError)
        return r(451, "4.4.3", "Directory temporarily unavailable, try again later");
      throw err;
    }
  }

  private async data(arg: string): Promise<void> {
    if (arg) return this.reply(r(501, "5.5.4", "Syntax: DATA"));
    if (!this.inMail) return this.reply(r(503, "5.5.1", "Need MAIL command"));
    if (this.rcptCount === 0) return this.reply(r(554, "5.5.1", "No valid recipients"));
    const tx = this.session.tx!;
    this.reply("354 End data with <CR><LF>.<CR><LF>");
    this.flush();
    const writer = this.session.beginData();
    let failure: MessageError | null = null;
    const res = await this.input.readData(async (chunk) => {
      if (failure) return; // keep reading to the end so the protocol stays in step
      try {
        await writer.write(chunk);
      } catch (err) {
        if (err instanceof MessageError) failure = err;
        else throw err;
      }
    });
    if (!res) throw new Closed();
    try {
      if (res.bareLineEnd) {
        this.log.warn({ id: tx.id }, "bare CR or LF in message data");
        return this.refuse(r(550, "5.5.2", `Bare <CR> or <LF> in message data not allowed [ref ${tx.id}]`));
      }
      if (failure) {
        const f = failure as MessageError;
        return this.refuse(r(f.code, f.enhanced, `${f.message} [ref ${tx.id}]`));
      }
      await writer.end();
      faultPoint("smtp.data.received");
      const result = await this.session.data();
      faultPoint("smtp.data.scanned");
      const trace = [
        {
          op: "add" as const,
          name: "Received",
          value: receivedHeader(
            tx.envelope,
            tx.id,
            tx.envelope.recipients.map((x) => x.address),
          ),
          top: true,
        },
      ];
      const rt = this.ctx.runtime;
      // Stored copies are journaled until the reply goes out (pending.ts): a crash in between
      // leaves no copy that nobody acknowledged.
      const journal = new PendingCommit(pendingDir(rt.config.spool.dir), tx.id);
      const { reply, copies } = await commitOutcome(tx, result, trace, {
        store: journal.journaled(rt.store),
        routes: this.ctx.routes,
        routeFor: (a) => rt.resolver.routeFor(a),
        owner: (a, kind) => rt.resolver.ownerOf(a, tx.envelope, kind),
        log: this.log,
      });
      faultPoint("smtp.committed");
      await journal.clear();
      faultPoint("smtp.reply.before");
      this.log.info({ id: tx.id, reply: `${reply.code} ${reply.enhanced}` }, "data reply");
      this.reply(reply);
      this.flush(() => faultPoint("smtp.reply.after"));
      // Refused at commit (next hop, store): the reference id the client got shows why.
      if (reply.code >= 400 && !result.reply) await this.session.noteCommitRefusal?.(reply);
      if (reply.code < 300) {
        const sender = new NextHopNotificationSender(
          this.ctx.routes,
          (a) => rt.resolver.routeFor(a),
          rt.signNotice,
        );
        // The client has its answer; notifications follow and never change it.
        this.flush();
        await sendAfterCommit(tx, result, quarantineIdOf(copies), rt.resolver, sender, this.log);
      }
    } finally {
      await this.resetTransaction();
    }
  }

  private async resetTransaction(): Promise<void> {
    this.inMail = false;
    this.rcptCount = 0;
    await this.session.reset();
  }
}

function normalizeIp(ip: string): string {
  return ip.startsWith("::ffff:") ? ip.slice(7) : ip;
}
