// A client for Rspamd's HTTP API: /checkv2 on the normal worker, /learnspam and /learnham on
// the controller. Uses fetch with a timeout; not a filter (rspamd.ts), no auth beyond a password header.
import { SpamEngineError } from "./errors.ts";

export interface RspamdCheck {
  action: string;
  score: number;
  requiredScore: number;
  symbols: { name: string; score: number; options: string[] }[];
}

export interface RspamdRequestMeta {
  ip?: string;
  helo?: string;
  from?: string;
  rcpt?: string[];
  queueId?: string;
  user?: string;
}

export async function rspamdCheck(
  url: string,
  message: Buffer,
  meta: RspamdRequestMeta,
  opts: { timeoutMs: number; signal?: AbortSignal; password?: string },
): Promise<RspamdCheck> {
  const headers: Record<string, string> = {};
  if (meta.ip) headers.IP = meta.ip;
  if (meta.helo) headers.Helo = meta.helo;
  if (meta.from) headers.From = meta.from;
  if (meta.queueId) headers["Queue-Id"] = meta.queueId;
  if (meta.user) headers.User = meta.user;
  if (opts.password) headers.Password = opts.password;
  const rcpts = meta.rcpt ?? [];
  const res = await post(`${url.replace(/\/$/, "")}/checkv2`, message, headers, rcpts, opts);
  const json = (await res.json()) as {
    action?: string;
    score?: number;
    required_score?: number;
    symbols?: Record<string, { name?: string; score?: number; options?: string[] }>;
    error?: string;
  };
  if (json.error || typeof json.score !== "number") {
    throw new SpamEngineError("rspamd", `check failed: ${json.error ?? "no score in reply"}`);
  }
  return {
    action: json.action ?? "no action",
    score: json.score,
    requiredScore: json.required_score ?? 0,
    symbols: Object.entries(json.symbols ?? {}).map(([name, s]) => ({
      name: s.name ?? name,
      score: s.score ?? 0,
      options: s.options ?? [],
    })),
  };
}

/** Learn on the controller. `bulk` learns even messages Rspamd already classifies well. */
export async function rspamdLearn(
  controllerUrl: string,
  message: Buffer,
  cls: "spam" | "ham",
  opts: { timeoutMs: number; bulk?: boolean; password?: string; signal?: AbortSignal },
): Promise<boolean> {
  const headers: Record<string, string> = {};
  if (opts.bulk) headers["Learn-Type"] = "bulk";
  if (opts.password) headers.Password = opts.password;
  const res = await post(`${controllerUrl.replace(/\/$/, "")}/learn${cls}`, message, headers, [], opts, true);
  // Some replies (already learned, nothing to learn) carry no JSON body: that is "not learned".
  const text = await res.text();
  try {
    return (JSON.parse(text) as { success?: boolean }).success === true;
  } catch {
    return false;
  }
}

async function post(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
  rcpts: string[],
  opts: { timeoutMs: number; signal?: AbortSignal },
  learning = false,
): Promise<Response> {
  const h = new Headers(headers);
  for (const r of rcpts) h.append("Rcpt", r);
  const signals = [AbortSignal.timeout(opts.timeoutMs), ...(opts.signal ? [opts.signal] : [])];
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      body: new Uint8Array(body),
      headers: h,
      signal: AbortSignal.any(signals),
    });
  } catch (err) {
    const e = err as Error;
    const why = e.name === "TimeoutError" ? `no answer in ${opts.timeoutMs} ms` : e.message;
    throw new SpamEngineError("rspamd", `${url}: ${why}`, true, { cause: err });
  }
  // Learning a message already learned answers 208 (or an error text); that is not a failure.
  if (learning && (res.status === 208 || res.status === 404)) return new Response('{"success":false}');
  if (!res.ok) {
    const text = (await res.text()).slice(0, 200);
    throw new SpamEngineError("rspamd", `${url}: HTTP ${res.status} ${text}`, res.status >= 500);
  }
  return res;
}
