// Serves the built console (web-dist/, built by `npm run build:web` from web/) with a strict
// CSP: scripts and styles from this origin only, no framing, images from self or data:.
// Unknown paths outside /api/ get index.html (client-side routes). Never serves from web/.
import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply } from "fastify";
import { HttpProblem, notFound } from "./problem.ts";

export const CONSOLE_DIR = fileURLToPath(new URL("../../web-dist/", import.meta.url));

export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".woff2": "font/woff2",
};

export function serveConsole(app: FastifyInstance, dir = CONSOLE_DIR): void {
  const send = async (reply: FastifyReply, file: string) => {
    const body = await readFile(file);
    const ext = extname(file);
    reply
      .header("content-type", TYPES[ext] ?? "application/octet-stream")
      .header("content-security-policy", CONSOLE_CSP)
      .header("x-frame-options", "DENY")
      .header("referrer-policy", "no-referrer")
      .header("cache-control", ext === ".html" ? "no-store" : "public, max-age=31536000, immutable");
    return reply.send(body);
  };
  app.get("/*", async (req, reply) => {
    let path: string;
    try {
      path = decodeURIComponent(req.url.split("?")[0]!);
    } catch {
      throw new HttpProblem(400, "malformed URL");
    }
    if (path.startsWith("/api/")) throw notFound();
    if (!existsSync(join(dir, "index.html"))) {
      return reply
        .code(503)
        .type("text/plain; charset=utf-8")
        .send("The console is not built: run `npm run build:web` (npm start does it for you).\n");
    }
    const file = normalize(join(dir, path));
    if (file.startsWith(dir.endsWith(sep) ? dir : dir + sep) && extname(file) && existsSync(file))
      return send(reply, file);
    if (path.startsWith("/assets/")) throw notFound();
    return send(reply, join(dir, "index.html"));
  });
}
