// The SQL Store: every role written once over a Dialect (sqlite-dialect.ts, postgres-dialect.ts),
// plus migrations and shutdown. SqliteStore and PostgresStore are this with their dialect.
import type {
  AccountStore,
  AuditStore,
  ConfigRevisionStore,
  DkimKeyStore,
  GreylistStore,
  HoldStore,
  JobStore,
  MessageLogStore,
  QuarantineStore,
  RateCounterStore,
  ReleaseStore,
  SpamLearningStore,
  StoreLifecycle,
  UserOverrideStore,
  UserStore,
} from "../types.ts";
import { sql } from "./query.ts";
import type { Dialect } from "./dialect.ts";
import { accountStore } from "./accounts.ts";
import { auditStore } from "./audit.ts";
import { configRevisionStore } from "./cluster.ts";
import { dkimKeyStore } from "./dkim.ts";
import { greylistStore } from "./greylist.ts";
import { holdStore } from "./holds.ts";
import { jobStore } from "./jobs.ts";
import { messageLogStore } from "./message-log.ts";
import { quarantineStore } from "./quarantine.ts";
import { rateCounterStore } from "./rate-counters.ts";
import { releaseStore } from "./releases.ts";
import { spamLearningStore } from "./spam.ts";
import { userStore } from "./users.ts";
import { userOverrideStore } from "./user-overrides.ts";

// The role methods are put on each instance by the constructor (checked there); this merge
// tells the compiler so.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface SqlStore
  extends
    UserStore,
    UserOverrideStore,
    QuarantineStore,
    HoldStore,
    ReleaseStore,
    JobStore,
    MessageLogStore,
    AccountStore,
    AuditStore,
    ConfigRevisionStore,
    DkimKeyStore,
    GreylistStore,
    RateCounterStore,
    SpamLearningStore {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class SqlStore implements StoreLifecycle {
  protected readonly dialect: Dialect;
  private readonly flushLog: () => Promise<void>;

  constructor(dialect: Dialect) {
    this.dialect = dialect;
    const { flush, ...log } = messageLogStore(dialect);
    this.flushLog = flush;
    const roles: Omit<SqlStore, keyof StoreLifecycle> = {
      ...userStore(dialect),
      ...userOverrideStore(dialect),
      ...quarantineStore(dialect),
      ...holdStore(dialect),
      ...releaseStore(dialect),
      ...jobStore(dialect),
      ...log,
      ...accountStore(dialect),
      ...auditStore(dialect),
      ...configRevisionStore(dialect),
      ...dkimKeyStore(dialect),
      ...greylistStore(dialect),
      ...rateCounterStore(dialect),
      ...spamLearningStore(dialect),
    };
    Object.assign(this, roles);
  }

  async migrate(): Promise<void> {
    const d = this.dialect;
    await d.tx(async (db) => {
      await d.lockMigrations(db);
      await db.exec("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)");
      const [row] = await db.all(sql`SELECT MAX(version) AS v FROM schema_version`);
      for (let v = Number(row?.v ?? 0) + 1; v <= d.migrations.length; v++) {
        await db.exec(d.migrations[v - 1]!);
        await db.run(sql`INSERT INTO schema_version (version) VALUES (${v})`);
      }
    });
  }

  async close(): Promise<void> {
    await this.flushLog();
    await this.dialect.close();
  }
}
