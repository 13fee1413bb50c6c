// SMTP and LMTP next hops through nodemailer's SMTPConnection (STARTTLS when offered,
// DSN parameters passed on). Replies are mirrored per recipient; a connection failure
// or timeout is a temporary failure for every recipient (451 4.4.1).
import SMTPConnection from "nodemailer/lib/smtp-connection";
import type { DeliveryRequest, DeliveryResult, NextHop } from "./types.ts";
import { allFailed } from "./types.ts";
import type { SmtpReply } from "../../message/types.ts";
import { reply } from "../../message/replies.ts";

export interface SmtpHopOptions {
  host: string;
  port: number;
  lmtp: boolean;
  name: string;
  timeoutMs: number;
}

interface NodemailerErr extends Error {
  responseCode?: number;
  response?: string;
  code?: string;
  permanent?: boolean;
}

function replyFromText(text: string | undefined, fallback: SmtpReply): SmtpReply {
  const m = /^(\d{3})[ -](?:(\d\.\d{1,3}\.\d{1,3}) )?(.*)$/s.exec((text ?? "").split(/\r?\n/).pop() ?? "");
  if (!m) return fallback;
  return { code: Number(m[1]), enhanced: m[2] ?? `${m[1]![0]}.0.0`, text: m[3]!.trim() };
}

const DOWN: SmtpReply = reply("nextHopDown");

const MAX_IDLE = 32;
const IDLE_MS = 10_000;

interface Idle {
  conn: SMTPConnection;
  timer: NodeJS.Timeout;
}

export class SmtpNextHop implements NextHop {
  readonly target: string;
  private readonly opts: SmtpHopOptions;
  /** Connections kept open between messages (after RSET), like Postfix's connection cache. */
  private readonly idle: Idle[] = [];

  constructor(opts: SmtpHopOptions) {
    this.opts = opts;
    this.target = `${opts.lmtp ? "lmtp" : "smtp"}://${opts.host}:${opts.port}`;
  }

  private take(): SMTPConnection | null {
    const i = this.idle.pop();
    if (!i) return null;
    clearTimeout(i.timer);
    return i.conn;
  }

  private give(conn: SMTPConnection): void {
    conn.reset((err) => {
      if (err || this.idle.length >= MAX_IDLE) return conn.quit();
      const entry: Idle = {
        conn,
        timer: setTimeout(() => {
          this.idle.splice(this.idle.indexOf(entry), 1);
          conn.quit();
        }, IDLE_MS),
      };
      entry.timer.unref();
      this.idle.push(entry);
    });
  }

  async deliver(req: DeliveryRequest): Promise<DeliveryResult> {
    const pooled = this.take();
    if (pooled) {
      const res = await this.send(pooled, req, true);
      if (res !== "stale") return res;
    }
    const conn = new SMTPConnection({
      host: this.opts.host,
      port: this.opts.port,
      lmtp: this.opts.lmtp,
      name: this.opts.name,
      opportunisticTLS: true,
      tls: { rejectUnauthorized: false },
      connectionTimeout: this.opts.timeoutMs,
      greetingTimeout: this.opts.timeoutMs,
      socketTimeout: this.opts.timeoutMs,
      socketCloseTimeout: 0,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        conn.once("error", reject);
        conn.connect((err) => (err ? reject(err) : resolve()));
      });
    } catch {
      conn.close();
      return allFailed(req, DOWN, false);
    }
    conn.on("error", () => undefined);
    return (await this.send(conn, req, false)) as DeliveryResult;
  }

  /** One transaction on a connection; "stale" when a pooled connection died before answering. */
  private async send(
    conn: SMTPConnection,
    req: DeliveryRequest,
    pooled: boolean,
  ): Promise<DeliveryResult | "stale"> {
    const p = req.from.params;
    const first = req.recipients[0]?.params ?? {};
    const dsn = {
      ...(typeof p.RET === "string" ? { ret: p.RET } : {}),
      ...(typeof p.ENVID === "string" ? { envid: p.ENVID } : {}),
      ...(typeof first.NOTIFY === "string" ? { notify: first.NOTIFY.split(",") } : {}),
      ...(typeof first.ORCPT === "string" ? { recipient: first.ORCPT.replace(/^rfc822;/i, "") } : {}),
    };
    try {
      const info = await new Promise<SMTPConnection.SentMessageInfo>((resolve, reject) => {
        conn.send(
          {
            from: req.from.address || false,
            to: req.recipients.map((r) => r.address),
            size: req.size,
            use8BitMime: p.BODY === "8BITMIME",
            ...(Object.keys(dsn).length ? { dsn } : {}),
          } as SMTPConnection.Envelope,
          req.message(),
          (err, info) => (err ? reject(err) : resolve(info)),
        );
      });
      const rejectedErrors = (info as { rejectedErrors?: NodemailerErr[] }).rejectedErrors ?? [];
      this.give(conn);
      return {
        accepted: info.accepted.map(String),
        failed: info.rejected.map((a, i) => failure(String(a), rejectedErrors[i])),
      };
    } catch (err) {
      const e = err as NodemailerErr;
      conn.close();
      if (!e.responseCode) return pooled ? "stale" : allFailed(req, DOWN, false);
      const reply = replyFromText(e.response, DOWN);
      return allFailed(req, reply, reply.code >= 500);
    }
  }
}

function failure(address: string, e: NodemailerErr | undefined) {
  const reply = replyFromText(e?.response, {
    code: 450,
    enhanced: "4.0.0",
    text: "Recipient refused by next hop",
  });
  return { address, reply, permanent: reply.code >= 500 };
}
