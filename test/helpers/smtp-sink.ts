// Test helper: Postfix's smtp-sink as a next hop, dumping each message (with the envelope
// arguments it received) to a private directory; optionally refusing commands.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, chmodSync, readdirSync, readFileSync, statSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { freePort } from "./ports.ts";

export const SMTP_SINK = "/usr/sbin/smtp-sink";

export interface Sink {
  port: number;
  dir: string;
  messages(): string[];
  stop(): Promise<void>;
}

export async function startSink(extra: string[] = []): Promise<Sink> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "sluice-sink-"));
  chmodSync(dir, 0o777);
  const child: ChildProcess = spawn(
    SMTP_SINK,
    ["-u", "nobody", "-d", `${dir}/%s.`, ...extra, `127.0.0.1:${port}`, "100"],
    {
      stdio: "ignore",
    },
  );
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((res) => {
      const s = connect(port, "127.0.0.1", () => {
        s.destroy();
        res(true);
      });
      s.on("error", () => res(false));
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    dir,
    // Oldest first, by modification time (file names only have one-second resolution).
    messages: () =>
      readdirSync(dir)
        .map((f) => join(dir, f))
        .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs)
        .map((f) => readFileSync(f, "utf8")),
    stop: () =>
      new Promise((res) => {
        child.once("exit", () => res());
        child.kill("SIGTERM");
      }),
  };
}
