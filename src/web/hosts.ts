// Which Host names the console answers to (web.hosts, or a loopback-and-this-machine default):
// a request naming any other host is refused before routing, so a DNS-rebinding page that
// points its own name at 127.0.0.1 gets nothing. Not an access control: sessions are (auth/).
import { hostname } from "node:os";
import type { FastifyRequest } from "fastify";
import type { WebConfig } from "../config/web.ts";
import { HttpProblem } from "./problem.ts";

/** The configured host names, or localhost, 127.0.0.1, ::1, the machine's name and the listen host. */
export function allowedHosts(web: WebConfig): Set<string> {
  if (web.hosts) return new Set(web.hosts);
  const listen = web.listen
    .slice(0, web.listen.lastIndexOf(":"))
    .replace(/^\[|\]$/g, "")
    .toLowerCase();
  const out = new Set(["localhost", "127.0.0.1", "::1", hostname().toLowerCase()]);
  if (listen && listen !== "0.0.0.0" && listen !== "::") out.add(listen);
  return out;
}

/** The host part of a Host header value: "[::1]:8080" → "::1", "Mail.Example:443" → "mail.example". */
export function hostOf(header: string): string {
  const h = header.trim().toLowerCase();
  const v6 = /^\[([^\]]+)\](:\d+)?$/.exec(h);
  if (v6) return v6[1]!;
  return h.replace(/:\d+$/, "").replace(/\.$/, "");
}

/** onRequest hook: 400 for a missing or unknown Host (req.host honours a trusted proxy). */
export function hostCheck(allowed: Set<string>) {
  return async (req: FastifyRequest): Promise<void> => {
    const host = req.host ? hostOf(req.host) : "";
    if (!allowed.has(host)) {
      throw new HttpProblem(400, "unknown host", "this server does not answer to that Host name (web.hosts)");
    }
  };
}
