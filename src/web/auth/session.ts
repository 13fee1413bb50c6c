// Console sessions: a random token in a Secure, HttpOnly, SameSite=Strict cookie; the store
// keeps only its sha256, with the principal and a per-session CSRF token that every
// state-changing request must echo in X-CSRF-Token. Not for checking passwords (login.ts).
//
// A session ends when it is idle too long (operators sooner), 8 h after login, or when its
// subject's sessions are revoked (password, role or tenant change, disable, delete, "log out
// everywhere"); every request also re-checks the subject against its account or directory entry.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { DirectoryError, type Directory } from "../../policy/directory.ts";
import type { Store, WebSession } from "../../store/types.ts";
import { HttpProblem } from "../problem.ts";
import { isUsable } from "./accounts.ts";
import { revokedAt } from "./revoke.ts";
import type { Principal, Role } from "./principal.ts";

export const SESSION_COOKIE = "sluice_session";
export const CSRF_HEADER = "x-csrf-token";
/** Hard limit after login, whatever the activity. */
export const SESSION_MAX_MS = 8 * 60 * 60_000;
/** Inactivity after which a session ends, per role. */
export const IDLE_MS: Record<Role, number> = {
  operator: 15 * 60_000,
  tenant_admin: 30 * 60_000,
  user: 60 * 60_000,
};
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0) {
      try {
        out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        // A malformed cookie of some other application is not ours to refuse.
      }
    }
  }
  return out;
}

const hash = (token: string): string => createHash("sha256").update(token).digest("hex");

/** TOKEN = login time (base 36) "." random: the login time cannot be forged, the store keys its hash. */
function newToken(issuedAt: number): string {
  return `${issuedAt.toString(36)}.${randomBytes(32).toString("base64url")}`;
}

function issuedAtOf(token: string): number | null {
  const m = /^([0-9a-z]{1,12})\.[A-Za-z0-9_-]{43}$/.exec(token);
  return m ? parseInt(m[1]!, 36) : null;
}

function setCookie(reply: FastifyReply, token: string, maxAgeMs: number): void {
  reply.header(
    "set-cookie",
    `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=${Math.max(0, Math.floor(maxAgeMs / 1000))}`,
  );
}

async function writeSession(
  store: Store,
  reply: FastifyReply,
  who: { subject: string; role: Role; tenant: string | null },
  issuedAt: number,
  csrf: string,
): Promise<string> {
  const token = newToken(issuedAt);
  const id = hash(token);
  const until = Math.min(Date.now() + IDLE_MS[who.role], issuedAt + SESSION_MAX_MS);
  const { subject, role, tenant } = who;
  await store.putSession({ id, subject, role, tenant, csrf, expiresAt: new Date(until) });
  setCookie(reply, token, issuedAt + SESSION_MAX_MS - Date.now());
  return id;
}

export async function openSession(
  store: Store,
  reply: FastifyReply,
  who: { subject: string; role: Role; tenant: string | null },
): Promise<Principal> {
  const csrf = randomBytes(24).toString("base64url");
  const id = await writeSession(store, reply, who, Date.now(), csrf);
  return { ...who, sessionId: id, csrf };
}

export async function closeSession(store: Store, reply: FastifyReply, p: Principal): Promise<void> {
  await store.deleteSession(p.sessionId);
  setCookie(reply, "", 0);
}

/** Is the session's subject still what it was at login (account or directory entry)? */
async function stillValid(store: Store, directory: Directory, s: WebSession): Promise<boolean> {
  if (s.role === "user") {
    const u = await directory.lookup(s.subject).catch((err: unknown) => {
      if (err instanceof DirectoryError)
        throw new HttpProblem(503, "directory unavailable", "try again shortly");
      throw err;
    });
    return !!u && u.address === s.subject && u.tenant === s.tenant;
  }
  const a = await store.getAccount(s.subject);
  return !!a && isUsable(a) && a.role === s.role && a.tenant === s.tenant;
}

/**
 * onRequest hook for /api/: resolves the session cookie into req.principal and enforces
 * CSRF on unsafe methods — a same-origin Origin (when sent) and, with a session, the token.
 */
export function sessionHook(store: Store, directory: () => Directory) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    req.principal = null;
    if (!req.url.startsWith("/api/")) return;
    const unsafe = UNSAFE.has(req.method);
    if (unsafe && req.headers.origin !== undefined && !sameOrigin(req.headers.origin, req.host)) {
      throw new HttpProblem(403, "cross-origin request refused");
    }
    const token = parseCookies(req.headers.cookie)[SESSION_COOKIE];
    if (!token) return;
    const issuedAt = issuedAtOf(token);
    if (issuedAt === null) return;
    const s = await store.getSession(hash(token));
    if (!s) return;
    const now = Date.now();
    if (
      issuedAt + SESSION_MAX_MS < now ||
      issuedAt <= (await revokedAt(store, s.subject)) ||
      !(await stillValid(store, directory(), s))
    ) {
      await store.deleteSession(s.id);
      return;
    }
    let id = s.id;
    // Sliding idle timeout: once a tenth of the idle time has passed since the row was written,
    // a fresh row and cookie (same login time and CSRF token); the old row simply runs out.
    if (
      s.expiresAt.getTime() - now < IDLE_MS[s.role] * 0.9 &&
      s.expiresAt.getTime() < issuedAt + SESSION_MAX_MS
    ) {
      id = await writeSession(store, reply, s, issuedAt, s.csrf);
    }
    req.principal = { subject: s.subject, role: s.role, tenant: s.tenant, sessionId: id, csrf: s.csrf };
    if (unsafe) {
      const sent = req.headers[CSRF_HEADER];
      if (typeof sent !== "string" || !equal(sent, s.csrf)) {
        throw new HttpProblem(
          403,
          "missing or wrong CSRF token",
          `send the session's csrf value in ${CSRF_HEADER}`,
        );
      }
    }
  };
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return new URL(origin).host.toLowerCase() === host?.toLowerCase();
  } catch {
    return false;
  }
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
