// `sluice directory flush [ADDRESS]`: make a running node forget cached directory answers.
// The cache lives in the node's memory, so this goes through its console API as an operator
// (login and password from --login / SLUICE_LOGIN and SLUICE_PASSWORD or standard input).
import { FilterRegistry } from "../pipeline/registry.ts";
import { builtinFilters } from "../filters/index.ts";
import { loadConfigFile } from "../config/load.ts";
import { readPassword } from "../web/cli.ts";
import { CliUsageError } from "./quarantine.ts";

export interface FlushOptions {
  config?: string;
  url?: string;
  login?: string;
}

/** The node's base URL: --url, else its web.listen (a wildcard reached on loopback). */
async function baseUrl(o: FlushOptions): Promise<string> {
  if (o.url) return o.url;
  const web = o.config
    ? (await loadConfigFile(o.config, new FilterRegistry(builtinFilters()))).web
    : { listen: "127.0.0.1:8080", tls: undefined };
  const i = web.listen.lastIndexOf(":");
  const host = web.listen.slice(0, i);
  const local = host === "0.0.0.0" ? "127.0.0.1" : host === "[::]" ? "[::1]" : host;
  return `${web.tls ? "https" : "http"}://${local}:${web.listen.slice(i + 1)}`;
}

/** Returns the line to print; throws CliUsageError (exit 2) when the node refuses or is away. */
export async function directoryFlush(address: string | undefined, o: FlushOptions): Promise<string> {
  const login = o.login ?? process.env.SLUICE_LOGIN;
  if (!login) {
    throw new CliUsageError(
      "say which operator you are: --login NAME (password from SLUICE_PASSWORD or standard input)",
    );
  }
  const base = await baseUrl(o);
  const call = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    try {
      const res = await fetch(new URL(path, base), {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
      return { res, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
    } catch (err) {
      throw new CliUsageError(`no node answers at ${base}: ${String((err as Error).cause ?? err)}`);
    }
  };
  const refused = (what: string, r: { res: Response; body: Record<string, unknown> }) =>
    new CliUsageError(
      `${base} refused ${what}: ${r.res.status} ${String(r.body.title ?? "")}${r.body.detail ? ` (${String(r.body.detail)})` : ""}`,
    );

  const auth = await call("/api/auth/login", { login, password: await readPassword() });
  if (!auth.res.ok) throw refused("the login", auth);
  const cookie = (auth.res.headers.get("set-cookie") ?? "").split(";")[0]!;
  const session = { cookie, "x-csrf-token": String(auth.body.csrf) };
  try {
    const r = await call("/api/directory/flush", address === undefined ? {} : { address }, session);
    if (!r.res.ok) throw refused("the flush", r);
    const what = address ?? "all addresses";
    return r.body.cached
      ? `flushed ${String(r.body.flushed)} cached entries (${what})\n`
      : "this node's directory has no cache\n";
  } finally {
    await call("/api/auth/logout", {}, session).catch(() => undefined);
  }
}
