// The cluster store: PostgreSQL, shared by several nodes. Statements and rules are the shared
// SQL layer's (sql/); this adds what only PostgreSQL has: push notice of new configuration
// revisions over LISTEN. Not a cache: every call goes to the database, and fails fast
// (StoreError) while it is away.
import pg from "pg";
import { SqlStore } from "./sql/store.ts";
import { CONFIG_CHANNEL, PostgresDialect, type PostgresOptions } from "./sql/postgres-dialect.ts";

export { CONFIG_CHANNEL, type PostgresOptions };

export class PostgresStore extends SqlStore {
  private readonly pg: PostgresDialect;

  constructor(url: string, opts: PostgresOptions = {}) {
    const dialect = new PostgresDialect(url, opts);
    super(dialect);
    this.pg = dialect;
  }

  /**
   * LISTEN on the revision channel over a dedicated connection (not from the pool: LISTEN is
   * per session). Lost connections are retried with backoff until close(); onState says when.
   */
  override async watchConfig(
    onRevision: (role: string, rev: number) => void,
    onState?: (up: boolean, err?: Error) => void,
  ): Promise<{ close(): Promise<void> }> {
    let stopped = false;
    let client: pg.Client | null = null;
    let timer: NodeJS.Timeout | null = null;
    let delay = 200;
    const connect = async (): Promise<void> => {
      if (stopped) return;
      const c = new pg.Client({
        connectionString: this.pg.url,
        connectionTimeoutMillis: this.pg.connectTimeoutMs,
      });
      let failed = false;
      const fail = (err?: Error) => {
        if (failed) return;
        failed = true;
        c.removeAllListeners("notification");
        c.end().catch(() => undefined);
        if (client === c) client = null;
        if (stopped) return;
        onState?.(false, err);
        timer = setTimeout(() => void connect(), delay);
        delay = Math.min(delay * 2, 5000);
      };
      c.on("error", (err) => fail(err));
      c.on("end", () => fail(new Error("connection ended")));
      c.on("notification", (n) => {
        if (n.channel !== CONFIG_CHANNEL || !n.payload) return;
        try {
          const p = JSON.parse(n.payload) as { role: string; rev: number };
          onRevision(p.role, p.rev);
        } catch {
          // not ours
        }
      });
      try {
        await c.connect();
        await c.query(`LISTEN ${CONFIG_CHANNEL}`);
      } catch (err) {
        fail(err as Error);
        return;
      }
      if (stopped) {
        await c.end().catch(() => undefined);
        return;
      }
      client = c;
      delay = 200;
      onState?.(true);
    };
    await connect();
    return {
      close: async () => {
        stopped = true;
        if (timer) clearTimeout(timer);
        await client?.end().catch(() => undefined);
        client = null;
      },
    };
  }
}
