// Parses delivery targets (smtp://host:port, lmtp://host:port, maildir:PATH) into next
// hops, once per distinct target, and picks the route of a recipient (its tenant's
// delivery, else the node's default).
import { MaildirNextHop } from "./maildir.ts";
import { SmtpNextHop } from "./smtp.ts";
import type { NextHop } from "./types.ts";

export class RouteError extends Error {}

export function parseTarget(target: string, name: string, timeoutMs: number): NextHop {
  if (target.startsWith("maildir:")) {
    const path = target.slice("maildir:".length);
    if (!path) throw new RouteError(`"${target}": maildir needs a path`);
    return new MaildirNextHop(path);
  }
  const m = /^(smtp|lmtp):\/\/(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?\/?$/i.exec(target);
  if (!m) throw new RouteError(`"${target}": expected smtp://host:port, lmtp://host:port or maildir:PATH`);
  const lmtp = m[1]!.toLowerCase() === "lmtp";
  return new SmtpNextHop({
    host: m[2]!.replace(/^\[|\]$/g, ""),
    port: Number(m[3] ?? (lmtp ? 24 : 25)),
    lmtp,
    name,
    timeoutMs,
  });
}

export class Routes {
  private readonly hops = new Map<string, NextHop>();
  private readonly name: string;
  private readonly timeoutMs: number;

  constructor(name: string, timeoutMs: number) {
    this.name = name;
    this.timeoutMs = timeoutMs;
  }

  hop(target: string): NextHop {
    let h = this.hops.get(target);
    if (!h) {
      h = parseTarget(target, this.name, this.timeoutMs);
      this.hops.set(target, h);
    }
    return h;
  }
}
