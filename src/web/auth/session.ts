// Console sessions: a random token in a Secure, HttpOnly, SameSite=Strict cookie; the store
// keeps only its sha256, with the principal and a per-session CSRF token that every
// state-changing request must echo in X-CSRF-Token. Not for checking passwords (login.ts).
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Store } from "../../store/types.ts";
import { HttpProblem } from "../problem.ts";
import type { Principal, Role } from "./principal.ts";

export const SESSION_COOKIE = "sluice_session";
export const CSRF_HEADER = "x-csrf-token";
const SESSION_TTL_MS = 8 * 60 * 60_000;
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

const hash = (token: string): string => createHash("sha256").update(token).digest("hex");

export async function openSession(
  store: Store,
  reply: FastifyReply,
  who: { subject: string; role: Role; tenant: string | null },
): Promise<Principal> {
  const token = randomBytes(32).toString("base64url");
  const csrf = randomBytes(24).toString("base64url");
  const id = hash(token);
  await store.putSession({ id, ...who, csrf, expiresAt: new Date(Date.now() + SESSION_TTL_MS) });
  reply.header(
    "set-cookie",
    `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=${SESSION_TTL_MS / 1000}`,
  );
  return { ...who, sessionId: id, csrf };
}

export async function closeSession(store: Store, reply: FastifyReply, p: Principal): Promise<void> {
  await store.deleteSession(p.sessionId);
  reply.header("set-cookie", `${SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0`);
}

/**
 * onRequest hook for /api/: resolves the session cookie into req.principal and enforces
 * CSRF on unsafe methods — a same-origin Origin (when sent) and, with a session, the token.
 */
export function sessionHook(store: Store) {
  return async (req: FastifyRequest): Promise<void> => {
    req.principal = null;
    if (!req.url.startsWith("/api/")) return;
    const unsafe = UNSAFE.has(req.method);
    if (unsafe && req.headers.origin !== undefined && !sameOrigin(req.headers.origin, req.headers.host)) {
      throw new HttpProblem(403, "cross-origin request refused");
    }
    const token = parseCookies(req.headers.cookie)[SESSION_COOKIE];
    if (!token) return;
    const s = await store.getSession(hash(token));
    if (!s) return;
    req.principal = { subject: s.subject, role: s.role, tenant: s.tenant, sessionId: s.id, csrf: s.csrf };
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
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
