// Test helper for the virus filter: starts a throwaway clamd (TCP on a free loopback port and a
// unix socket) with its own EICAR-only signature database, and builds test material (EICAR, zips,
// MIME messages). Not for production; never downloads signatures.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateRawSync, crc32 } from "node:zlib";
import { haveTool } from "./require-tool.ts";
import { freePort } from "./ports.ts";

export const CLAMD_BIN = "/usr/sbin/clamd";
export const CLAMDSCAN_BIN = "/usr/bin/clamdscan";
export const CLAMAV_PACKAGES = "clamav-daemon, clamdscan";

/** The 68-byte EICAR test string. */
export const EICAR = Buffer.from(
  "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*",
  "latin1",
);

export function haveClamd(): boolean {
  return haveTool(CLAMD_BIN, "clamav-daemon") && haveTool(CLAMDSCAN_BIN, "clamdscan");
}

export interface Clamd {
  port: number;
  socket: string;
  config: string;
  dir: string;
  child: ChildProcess;
  /** SIGKILL, as a crash would. */
  kill(): void;
  stop(): Promise<void>;
}

/** `port`: listen there (a restart of a clamd that was stopped); default a free port. */
export async function startClamd(opts: { streamMaxLength?: string; port?: number } = {}): Promise<Clamd> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-clamd-"));
  const db = join(dir, "db");
  mkdirSync(db);
  const md5 = createHash("md5").update(EICAR).digest("hex");
  writeFileSync(join(db, "custom.hdb"), `${md5}:${EICAR.length}:Custom.Eicar-Test-HDB\n`);
  writeFileSync(join(db, "custom.ndb"), `Custom.Eicar-Test-NDB:0:*:${EICAR.toString("hex")}\n`);
  const port = opts.port ?? (await freePort());
  const socket = join(dir, "clamd.sock");
  const config = join(dir, "clamd.conf");
  writeFileSync(
    config,
    [
      "Foreground yes",
      `DatabaseDirectory ${db}`,
      `LocalSocket ${socket}`,
      `TCPSocket ${port}`,
      "TCPAddr 127.0.0.1",
      "ScanMail yes",
      "ScanArchive yes",
      `StreamMaxLength ${opts.streamMaxLength ?? "50M"}`,
      "MaxFileSize 60M",
      "MaxScanSize 200M",
      `PidFile ${join(dir, "clamd.pid")}`,
      `LogFile ${join(dir, "clamd.log")}`,
      "",
    ].join("\n"),
  );
  const child = spawn(CLAMD_BIN, ["-c", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`clamd exited (${child.exitCode}): ${stderr}\n${readLog(dir)}`);
    }
    if ((await ping(socket)) && (await ping({ port }))) break;
    if (Date.now() > deadline) throw new Error(`clamd did not start in 30 s: ${stderr}\n${readLog(dir)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return {
    port,
    socket,
    config,
    dir,
    child,
    kill: () => child.kill("SIGKILL"),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function readLog(dir: string): string {
  try {
    return readFileSync(join(dir, "clamd.log"), "utf8");
  } catch {
    return "";
  }
}

function ping(to: string | { port: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const s = typeof to === "string" ? connect({ path: to }) : connect({ host: "127.0.0.1", port: to.port });
    let got = "";
    s.setTimeout(1000, () => s.destroy());
    s.on("error", () => resolve(false));
    s.on("connect", () => s.write("zPING\0"));
    s.on("data", (d) => (got += d.toString()));
    s.on("close", () => resolve(got.startsWith("PONG")));
  });
}

export interface ZipEntry {
  name: string;
  data: Buffer;
  /** Deflate the entry (default: stored). */
  deflate?: boolean;
  /** Set the "encrypted" flag (bit 0); the data is left as is. */
  encrypted?: boolean;
}

/** A minimal zip writer (stored or deflated entries, no zip64) for test material. */
export function makeZip(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, "utf8");
    const body = e.deflate ? deflateRawSync(e.data) : e.data;
    const crc = crc32(e.data);
    const flags = (e.encrypted ? 1 : 0) | 0x800;
    const method = e.deflate ? 8 : 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

export interface MailAttachment {
  filename: string;
  contentType?: string;
  data: Buffer;
}

function base64Lines(data: Buffer): string {
  const b64 = data.toString("base64");
  const out: string[] = [];
  for (let i = 0; i < b64.length; i += 76) out.push(b64.slice(i, i + 76));
  return out.join("\r\n");
}

/** A multipart/mixed message with base64 attachments (CRLF line ends). */
export function mimeMessage(
  opts: { from?: string; to?: string; subject?: string; text?: string; attachments?: MailAttachment[] } = {},
): Buffer {
  const boundary = "=_sluice_test_boundary";
  const lines = [
    `From: ${opts.from ?? "alice@example.org"}`,
    `To: ${opts.to ?? "bob@example.com"}`,
    `Subject: ${opts.subject ?? "test"}`,
    "Date: Mon, 6 Jan 2025 10:00:00 +0000",
    "Message-ID: <virus-test@example.org>",
    "MIME-Version: 1.0",
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    "",
    `--${boundary}`,
    "Content-Type: text/plain; charset=utf-8",
    "",
    opts.text ?? "Hello.",
  ];
  for (const a of opts.attachments ?? []) {
    lines.push(
      `--${boundary}`,
      `Content-Type: ${a.contentType ?? "application/octet-stream"}; name="${a.filename}"`,
      `Content-Disposition: attachment; filename="${a.filename}"`,
      "Content-Transfer-Encoding: base64",
      "",
      base64Lines(a.data),
    );
  }
  lines.push(`--${boundary}--`, "");
  return Buffer.from(lines.join("\r\n"), "utf8");
}
