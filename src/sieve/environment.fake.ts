// A SieveEnvironment built from a raw RFC 5322 message, for tests, examples and the benchmark.
// Not production MIME handling: no RFC 2047 decoding and only base64 transfer decoding; the pipeline
// adapter supplies the real environment.

import type { BodyTransform, SieveEnvironment, SieveHeader, SieveMimePart } from "./environment.ts";
import { buildMimeTree } from "./mime-tree.ts";

interface Part {
  headers: SieveHeader[];
  body: string;
}

function splitMessage(raw: string): Part {
  const text = raw.replace(/\r\n/g, "\n");
  const sep = text.indexOf("\n\n");
  const head = sep < 0 ? text : text.slice(0, sep);
  const body = sep < 0 ? "" : text.slice(sep + 2);
  const headers: SieveHeader[] = [];
  for (const line of head.split("\n")) {
    if (/^[ \t]/.test(line) && headers.length > 0) {
      const last = headers[headers.length - 1] as SieveHeader;
      last.value += " " + line.trim();
    } else if (line.includes(":")) {
      const i = line.indexOf(":");
      headers.push({ name: line.slice(0, i).trim(), value: line.slice(i + 1).trim() });
    }
  }
  return { headers, body: body.replace(/\n/g, "\r\n") };
}

function header(p: Part, name: string): string {
  return p.headers.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value ?? "";
}

function contentType(p: Part): string {
  return (header(p, "Content-Type").split(";")[0] ?? "").trim().toLowerCase() || "text/plain";
}

function decoded(p: Part): string {
  if (header(p, "Content-Transfer-Encoding").toLowerCase() === "base64") {
    return Buffer.from(p.body.replace(/\s+/g, ""), "base64").toString("utf8");
  }
  return p.body;
}

/** Leaf and multipart parts in document order; multipart containers included. */
function walk(p: Part, out: Part[] = []): Part[] {
  out.push(p);
  const ct = header(p, "Content-Type");
  const m = /boundary="?([^";]+)"?/i.exec(ct);
  if (contentType(p).startsWith("multipart/") && m) {
    const boundary = "--" + (m[1] as string);
    const chunks = p.body.split(boundary).slice(1);
    for (const chunk of chunks) {
      if (chunk.startsWith("--")) break;
      walk(splitMessage(chunk.replace(/^\r\n/, "")), out);
    }
  }
  return out;
}

function typeMatches(ct: string, wanted: string): boolean {
  const w = wanted.toLowerCase();
  if (w === "") return true;
  return w.includes("/") ? ct === w : ct.split("/")[0] === w;
}

export interface FakeEnvOptions {
  from?: string;
  to?: string;
  auth?: string | null;
  spamScore?: number | null;
  spamPercent?: number | null;
  virusStatus?: number | null;
  symbols?: Record<string, number>;
  environment?: Record<string, string>;
  /** List name -> members (compared case-insensitively). */
  lists?: Record<string, string[]>;
  now?: Date;
  localZone?: string;
  /** A prepared RFC 5703 part tree (e.g. with archive members); default: built from the message. */
  mime?: SieveMimePart;
}

export function fakeEnv(raw: string, o: FakeEnvOptions = {}): SieveEnvironment {
  const root = splitMessage(raw);
  const firstAddress = (v: string): string => /<([^>]*)>/.exec(v)?.[1] ?? v.trim();
  const lists = o.lists ?? {};
  let tree: SieveMimePart | undefined = o.mime;
  return {
    envelope: {
      from: o.from ?? firstAddress(header(root, "From")),
      to: o.to ?? firstAddress(header(root, "To")),
      auth: o.auth ?? null,
    },
    headers: () => root.headers.map((h) => ({ ...h })),
    body(transform: BodyTransform, types?: string[]): string[] {
      if (transform === "raw") return [root.body];
      const parts = walk(root).filter((p) => !contentType(p).startsWith("multipart/"));
      if (transform === "text") return parts.filter((p) => contentType(p).startsWith("text/")).map(decoded);
      return parts.filter((p) => (types ?? [""]).some((t) => typeMatches(contentType(p), t))).map(decoded);
    },
    mime: () => (tree ??= buildMimeTree(raw)),
    size: Buffer.byteLength(raw),
    spamScore: o.spamScore ?? null,
    spamPercent: o.spamPercent ?? null,
    virusStatus: o.virusStatus ?? null,
    symbols: new Map(Object.entries(o.symbols ?? {})),
    environment: o.environment ?? {},
    lists: (name, value) => (lists[name] ?? []).some((m) => m.toLowerCase() === value.toLowerCase()),
    knownList: (name) => Object.hasOwn(lists, name),
    now: o.now ?? new Date("2026-11-27T12:00:00Z"),
    localZone: o.localZone,
  };
}
