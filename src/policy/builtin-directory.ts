// The built-in directory: users declared in the configuration file, then users kept in
// the store (managed through the API). Config entries win; both answer the same lookups.
import type { Config, UserConfig } from "../config/schema.ts";
import type { Store } from "../store/types.ts";
import type { Directory } from "./directory.ts";
import type { User } from "./types.ts";
import { verifyPassword } from "./password.ts";

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
  };
}

interface Entry {
  user: User;
  passwordHash: string | null;
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
    return { user, passwordHash };
  }

  async lookup(address: string): Promise<User | null> {
    return (await this.find(address))?.user ?? null;
  }

  async authenticate(login: string, secret: string): Promise<User | null> {
    const e = await this.find(login);
    if (!e?.passwordHash) return null;
    return (await verifyPassword(secret, e.passwordHash)) ? e.user : null;
  }
}
