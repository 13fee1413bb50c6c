// Test helper for the console API: a node's web server on a free port (runtime with a private
// SQLite store) and a tiny client that keeps the session cookie and sends the CSRF token,
// as the console does. Not a browser (test/e2e drives Chromium).
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import pino from "pino";
import type { FastifyInstance } from "fastify";
import { Runtime } from "../../src/runtime.ts";
import { startWeb } from "../../src/web/server.ts";
import { emptyEnvelope } from "../../src/message/envelope.ts";
import type { QuarantineInput } from "../../src/store/types.ts";

export interface WebNode {
  runtime: Runtime;
  app: FastifyInstance;
  base: string;
  dir: string;
  close(): Promise<void>;
}

export async function startWebNode(config: (dir: string) => string): Promise<WebNode> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-web-"));
  const runtime = await Runtime.create({
    configText: config(dir),
    logger: pino({ level: process.env.SLUICE_TEST_LOG ?? "silent" }),
  });
  const app = await startWeb(runtime, "127.0.0.1:0");
  const port = (app.server.address() as { port: number }).port;
  return {
    runtime,
    app,
    dir,
    base: `http://127.0.0.1:${port}`,
    async close() {
      await app.close();
      await runtime.close();
    },
  };
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & { [k: string]: unknown };
}

export class ApiClient {
  cookie = "";
  csrf = "";
  readonly base: string;
  constructor(base: string) {
    this.base = base;
  }

  async call(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse> {
    const h: Record<string, string> = { ...headers };
    if (this.cookie) h.cookie = this.cookie;
    if (this.csrf && method !== "GET") h["x-csrf-token"] ??= this.csrf;
    if (body !== undefined) h["content-type"] = "application/json";
    const res = await fetch(this.base + path, {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const set = res.headers.get("set-cookie");
    if (set) this.cookie = set.split(";")[0]!;
    const text = await res.text();
    let parsed: Record<string, unknown>;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = { text };
    }
    return { status: res.status, headers: res.headers, body: parsed };
  }

  get = (path: string) => this.call("GET", path);
  post = (path: string, body: unknown = {}) => this.call("POST", path, body);
  put = (path: string, body: unknown) => this.call("PUT", path, body);
  del = (path: string) => this.call("DELETE", path);

  async login(login: string, password: string): Promise<ApiResponse> {
    const r = await this.post("/api/auth/login", { login, password });
    if (r.status === 200) this.csrf = String(r.body.csrf);
    return r;
  }
}

export function quarantineInput(
  id: string,
  tenant: string,
  recipients: string[],
  message: string,
  subject = "test",
): QuarantineInput {
  const envelope = emptyEnvelope("inbound");
  envelope.mailFrom = { address: "spammer@remote.example", params: {} };
  envelope.recipients = recipients.map((address) => ({ address, params: {} }));
  return {
    id,
    tenant,
    envelope,
    score: 15,
    symbols: [{ name: "BAYES_SPAM", score: 15 }],
    subject,
    message: Buffer.from(message.replace(/\r?\n/g, "\r\n")),
    recipients: recipients.map((address) => ({ address, reason: "spam" })),
  };
}
