// The built-in directory: users declared in the configuration file, then users kept in
// the store (managed through the API). Config entries win; both answer the same lookups.
import type { Config, UserConfig } from "../config/schema.ts";
import type { Store } from "../store/types.ts";
import type { Directory } from "./directory.ts";
import type { User } from "../message/types.ts";
import { burnVerification, hashPassword, needsRehash, verifyPassword } from "./password.ts";

/** A user declared in the configuration file, as the directory gives it. */
export function userFromConfig(tenant: string, u: UserConfig): User {
  return {
    id: u.address,
    tenant,
    address: u.address,
    aliases: u.aliases,
    language: u.language ?? null,
    spamFilter: u.spam_filter ?? null,
    thresholds: u.thresholds ?? {},
    whitelist: u.whitelist,
    blacklist: u.blacklist,
    sendAs: u.send_as,
    quarantine: u.quarantine ?? null,
    ...(u.rate_limits && {
      rateLimits: {
        messagesPerHour: u.rate_limits.messages_per_hour,
        recipientsPerHour: u.rate_limits.recipients_per_hour,
      },
    }),
  };
}

interface Entry {
  user: User;
  passwordHash: string | null;
  /** Kept in the store (rehashable), not declared in the configuration file. */
  stored?: boolean;
}

export class BuiltinDirectory implements Directory {
  private readonly byAddress = new Map<string, Entry>();
  private readonly store: Store | null;

  constructor(config: Config, store: Store | null) {
    this.store = store;
    for (const t of config.tenants) {
      for (const u of t.users) {
        const entry: Entry = {
          user: userFromConfig(t.id, u),
          passwordHash: u.password_hash ?? null,
        };
        for (const a of [u.address, ...u.aliases]) this.byAddress.set(a, entry);
      }
    }
  }

  private async find(address: string): Promise<Entry | null> {
    const a = address.toLowerCase();
    const e = this.byAddress.get(a);
    if (e) return e;
    const s = await this.store?.getUser(a);
    if (!s) return null;
    const { passwordHash, ...user } = s;
    return { user, passwordHash, stored: true };
  }

  async lookup(address: string): Promise<User | null> {
    return (await this.find(address))?.user ?? null;
  }

  async authenticate(login: string, secret: string): Promise<User | null> {
    const e = await this.find(login.trim());
    if (!e?.passwordHash) {
      // Unknown users and users without a password cost the same time as a wrong password.
      await burnVerification(secret);
      return null;
    }
    if (!(await verifyPassword(secret, e.passwordHash))) return null;
    if (e.stored && needsRehash(e.passwordHash)) await this.rehash(e.user.address, secret);
    return e.user;
  }

  /** Replace an old-parameter hash after a successful login; a failure only costs the upgrade. */
  private async rehash(address: string, secret: string): Promise<void> {
    try {
      const s = await this.store?.getUser(address);
      if (s?.passwordHash && needsRehash(s.passwordHash))
        await this.store!.putUser({ ...s, passwordHash: await hashPassword(secret) });
    } catch {
      // The login itself succeeded; the next one tries again.
    }
  }
}
