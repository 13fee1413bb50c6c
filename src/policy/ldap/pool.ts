// A small pool of ldapts clients bound as the service account (optionally upgraded with
// StartTLS), with one deadline per use that covers waiting, connecting, TLS, bind and the
// operation. A client that failed or ran out of time is destroyed, never reused.
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from "node:tls";
import { Client } from "ldapts";

export interface PoolOptions {
  url: string;
  /** ca / host for ldaps:// and StartTLS. */
  tls: ConnectionOptions;
  starttls: boolean;
  bindDn: string | undefined;
  bindPassword: string | undefined;
  timeoutMs: number;
  size: number;
  /** Close a connection idle this long (keeps reload and short CLI runs from leaking sockets). */
  idleMs: number;
}

export class DeadlineError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = "DeadlineError";
  }
}

/** One connection: the ldapts client plus the socket underneath, so it can be cut hard. */
export class Conn {
  readonly client: Client;
  private socket: Socket | TLSSocket | null = null;
  idleTimer: NodeJS.Timeout | null = null;

  constructor(opts: PoolOptions) {
    // Our own socket factories: unref'd so an idle pool never keeps the process alive, and
    // kept so destroy() works even when the server stopped reading.
    const keep = <S extends Socket>(s: S): S => {
      s.unref();
      this.socket = s;
      return s;
    };
    this.client = new Client({
      url: opts.url,
      timeout: opts.timeoutMs,
      connectTimeout: opts.timeoutMs,
      // ldapts treats any tlsOptions as "connect with TLS": give them to ldaps:// only.
      ...(/^ldaps:/i.test(opts.url) ? { tlsOptions: opts.tls } : {}),
      strictDN: true,
      createConnection: ((...args: Parameters<typeof netConnect>) =>
        keep(netConnect(...args))) as typeof netConnect,
      createSecureConnection: ((...args: Parameters<typeof tlsConnect>) =>
        keep(tlsConnect(...args))) as typeof tlsConnect,
    });
  }

  destroy(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.socket?.destroy();
    this.socket = null;
  }

  async close(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    // A polite unbind, but never wait on a server that stopped answering.
    if (this.client.isConnected) {
      let timer: NodeJS.Timeout | undefined;
      const giveUp = new Promise<void>((r) => (timer = setTimeout(r, 1000).unref()));
      await Promise.race([this.client.unbind().catch(() => undefined), giveUp]);
      clearTimeout(timer);
    }
    this.destroy();
  }
}

/** A fresh connection, StartTLS'd if configured; the caller binds. */
export async function openConn(opts: PoolOptions): Promise<Conn> {
  const c = new Conn(opts);
  if (opts.starttls) await c.client.startTLS({ ...opts.tls });
  return c;
}

/** Runs fn with a deadline; on expiry calls onExpire (which cuts the connection) and rejects. */
export async function withDeadline<T>(ms: number, fn: () => Promise<T>, onExpire: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onExpire();
      reject(new DeadlineError(ms));
    }, ms);
  });
  try {
    return await Promise.race([fn(), expired]);
  } finally {
    clearTimeout(timer);
  }
}

export class LdapPool {
  private readonly opts: PoolOptions;
  private readonly idle: Conn[] = [];
  private readonly waiters: ((c: Conn | null) => void)[] = [];
  private open = 0;
  private closed = false;

  constructor(opts: PoolOptions) {
    this.opts = opts;
  }

  /** Run one operation on a service-bound connection, all within timeout_ms. */
  async use<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    let conn: Conn | null = null;
    let abandoned = false;
    try {
      const result = await withDeadline(
        this.opts.timeoutMs,
        async () => {
          conn = await this.acquire();
          if (abandoned) {
            this.release(conn, false);
            throw new DeadlineError(this.opts.timeoutMs);
          }
          return fn(conn.client);
        },
        () => {
          abandoned = true;
          (conn as Conn | null)?.destroy();
        },
      );
      this.release(conn!, false);
      return result;
    } catch (err) {
      if (conn) this.release(conn, true);
      throw err;
    }
  }

  private async acquire(): Promise<Conn> {
    if (this.closed) throw new Error("LDAP pool closed");
    const idle = this.idle.pop();
    if (idle) {
      if (idle.idleTimer) clearTimeout(idle.idleTimer);
      idle.idleTimer = null;
      return idle;
    }
    if (this.open < this.opts.size) {
      this.open++;
      try {
        const c = await openConn(this.opts);
        try {
          if (this.opts.bindDn) await c.client.bind(this.opts.bindDn, this.opts.bindPassword ?? "");
        } catch (err) {
          c.destroy();
          throw err;
        }
        return c;
      } catch (err) {
        this.open--;
        this.wakeOne();
        throw err;
      }
    }
    const c = await new Promise<Conn | null>((resolve) => this.waiters.push(resolve));
    return c ?? this.acquire();
  }

  private release(conn: Conn, broken: boolean): void {
    if (broken || this.closed || !conn.client.isConnected) {
      conn.destroy();
      this.open--;
      this.wakeOne();
      return;
    }
    const w = this.waiters.shift();
    if (w) return w(conn);
    conn.idleTimer = setTimeout(() => {
      const i = this.idle.indexOf(conn);
      if (i >= 0) this.idle.splice(i, 1);
      this.open--;
      void conn.close();
    }, this.opts.idleMs);
    conn.idleTimer.unref();
    this.idle.push(conn);
  }

  /** A slot was freed: let one waiter open a connection of its own. */
  private wakeOne(): void {
    this.waiters.shift()?.(null);
  }

  async close(): Promise<void> {
    this.closed = true;
    const idle = this.idle.splice(0);
    this.open -= idle.length;
    for (const w of this.waiters.splice(0)) w(null);
    await Promise.all(idle.map((c) => c.close()));
  }
}
