// The Directory seam: find a user by any of their addresses, check a login.
// Implementations: built-in (config file + store) here, LDAP in ldap/ when it lands.
import type { User } from "../message/types.ts";

export interface Directory {
  lookup(address: string): Promise<User | null>;
  /** The user for these credentials, or null when they are wrong. */
  authenticate(login: string, secret: string): Promise<User | null>;
}

/** The directory could not answer (down, timed out, bad answer): callers tempfail. */
export class DirectoryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DirectoryError";
  }
}
