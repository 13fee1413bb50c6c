// Revoking every session of a login or end-user address at once, on every node: the store
// keeps the time of the last revocation per subject (a named cursor), and sessions opened up
// to then stop working at their next request (session.ts compares their login time).

export interface RevocationStore {
  getCursor(name: string): Promise<Date | null>;
  setCursor(name: string, at: Date): Promise<void>;
}

const name = (subject: string) => `web.revoked:${subject}`;

/** Called on password, role or tenant changes, disable, delete and "log out everywhere". */
export async function revokeSessions(store: RevocationStore, subject: string): Promise<void> {
  await store.setCursor(name(subject), new Date());
}

/** The last revocation of this subject's sessions (ms), or -1. */
export async function revokedAt(store: RevocationStore, subject: string): Promise<number> {
  return (await store.getCursor(name(subject)))?.getTime() ?? -1;
}
