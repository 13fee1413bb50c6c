// The console's only way to the server: JSON over /api/ with the session cookie (sent by
// the browser, HttpOnly) and the CSRF token (kept in memory) on every change.
// Errors arrive as problem+json and are thrown as ApiError with the server's title/detail.

export class ApiError extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string | undefined;
  /** The problem's other members (e.g. issues of a refused configuration). */
  readonly extra: Record<string, unknown>;
  constructor(status: number, title: string, detail?: string, extra: Record<string, unknown> = {}) {
    super(detail ? `${title}: ${detail}` : title);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.extra = extra;
  }
}

export interface Me {
  subject: string;
  role: "operator" | "tenant_admin" | "user";
  tenant: string | null;
  csrf: string;
}

let csrf = "";

export async function api<T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET") headers["x-csrf-token"] = csrf;
  const res = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok)
    throw new ApiError(res.status, String(data.title ?? res.statusText), data.detail as string | undefined);
  return data as T;
}

export async function login(user: string, password: string): Promise<Me> {
  const me = await api<Me>("POST", "/api/auth/login", { login: user, password });
  csrf = me.csrf;
  return me;
}

export async function whoAmI(): Promise<Me | null> {
  try {
    const me = await api<Me>("GET", "/api/auth/me");
    csrf = me.csrf;
    return me;
  } catch {
    return null;
  }
}

export async function logout(): Promise<void> {
  await api("POST", "/api/auth/logout", {});
  csrf = "";
}
