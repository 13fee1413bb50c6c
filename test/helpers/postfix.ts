// Test harness: a private Postfix instance (own config, queue and log under a temp dir, loopback
// ports) relaying everything to a sink, optionally with a milter on its SMTP listener.
// Never touches the system's Postfix. Needs the Debian `postfix` package and root.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:net";
import { promisify } from "node:util";
import { freePort } from "./ports.ts";

const run = promisify(execFile);
export const POSTFIX = "/usr/sbin/postfix";

/**
 * Whether Postfix can run here. Without it a test skips, naming the package; under CI=true a
 * missing package is a failure, so the CI image cannot silently lose coverage.
 */
export function postfixAvailable(): boolean {
  const ok = existsSync(POSTFIX) && existsSync("/usr/sbin/smtp-source") && process.getuid?.() === 0;
  if (!ok && process.env.CI === "true") {
    throw new Error("CI=true but the Debian package `postfix` is not installed (or not running as root)");
  }
  if (!ok) console.warn("skipping: needs the Debian package `postfix` (and root)");
  return ok;
}

export interface PostfixOptions {
  /** Next hop for every message. */
  sinkPort: number;
  /** Milter socket for the main listener, e.g. "inet:127.0.0.1:8899"; none if absent. */
  milter?: string;
  /** Extra main.cf lines. */
  extra?: string[];
}

export interface PostfixInstance {
  dir: string;
  /** SMTP listener with the milter. */
  smtpPort: number;
  /** SMTP listener without milters (for re-injection). */
  reinjectPort: number;
  maillog(): Promise<string>;
  /** `postqueue -p` output. */
  queue(): Promise<string>;
  stop(): Promise<void>;
}

export async function startPostfix(opts: PostfixOptions): Promise<PostfixInstance> {
  const dir = await mkdtemp(join(tmpdir(), "sluice-postfix-"));
  // mkdtemp makes the dir 0700; Postfix daemons run as `postfix` and must reach data/ and queue/.
  await chmod(dir, 0o755);
  const smtpPort = await freePort();
  const reinjectPort = await freePort();
  const queueDir = join(dir, "queue");
  const dataDir = join(dir, "data");
  await mkdir(queueDir, { recursive: true });
  await mkdir(dataDir, { recursive: true });
  const pf = (await run("id", ["-u", "postfix"])).stdout.trim();
  await chown(dataDir, Number(pf), 0);
  const main = [
    "compatibility_level = 3.6",
    `queue_directory = ${queueDir}`,
    `data_directory = ${dataDir}`,
    "mail_owner = postfix",
    "setgid_group = postdrop",
    "myhostname = mx.sluice.test",
    "inet_interfaces = 127.0.0.1",
    "inet_protocols = ipv4",
    "mynetworks = 127.0.0.0/8",
    "mydestination =",
    `relayhost = [127.0.0.1]:${opts.sinkPort}`,
    "smtp_host_lookup = native",
    "smtp_dns_support_level = disabled",
    "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination",
    "alias_maps =",
    "alias_database =",
    "local_recipient_maps =",
    "smtpd_tls_security_level = none",
    "smtp_tls_security_level = none",
    `maillog_file = ${join(dir, "maillog")}`,
    `maillog_file_prefixes = ${dir}`,
    "milter_protocol = 6",
    "milter_default_action = tempfail",
    // Benchmarks push many messages quickly; flow control would only measure its own delay.
    "in_flow_delay = 0",
    "smtpd_client_connection_count_limit = 0",
    "smtpd_client_message_rate_limit = 0",
    "default_process_limit = 200",
    "queue_run_delay = 1s",
    "minimal_backoff_time = 1s",
    "maximal_backoff_time = 2s",
    ...(opts.extra ?? []),
  ];
  const milter = opts.milter ? ` -o smtpd_milters=${opts.milter}` : "";
  const master = [
    `127.0.0.1:${smtpPort} inet n - n - - smtpd${milter}`,
    `127.0.0.1:${reinjectPort} inet n - n - - smtpd -o smtpd_milters=`,
    "pickup unix n - n 60 1 pickup",
    "cleanup unix n - n - 0 cleanup",
    "qmgr unix n - n 300 1 qmgr",
    "tlsmgr unix - - n 1000? 1 tlsmgr",
    "rewrite unix - - n - - trivial-rewrite",
    "bounce unix - - n - 0 bounce",
    "defer unix - - n - 0 bounce",
    "trace unix - - n - 0 bounce",
    "verify unix - - n - 1 verify",
    "flush unix n - n 1000? 0 flush",
    "proxymap unix - - n - - proxymap",
    "smtp unix - - n - - smtp",
    "relay unix - - n - - smtp",
    "showq unix n - n - - showq",
    "error unix - - n - - error",
    "retry unix - - n - - error",
    "discard unix - - n - - discard",
    "anvil unix - - n - 1 anvil",
    "scache unix - - n - 1 scache",
    "postlog unix-dgram n - n - 1 postlogd",
  ];
  await writeFile(join(dir, "main.cf"), main.join("\n") + "\n");
  await writeFile(join(dir, "master.cf"), master.join("\n") + "\n");
  await run(POSTFIX, ["-c", dir, "start"]);
  await waitForBanner(smtpPort);
  return {
    dir,
    smtpPort,
    reinjectPort,
    maillog: async () => readFile(join(dir, "maillog"), "utf8").catch(() => ""),
    queue: async () => (await run("/usr/sbin/postqueue", ["-c", dir, "-p"])).stdout,
    stop: async () => {
      await run(POSTFIX, ["-c", dir, "stop"]).catch(() => undefined);
      // master exits shortly after "stop"; its children hold files under dir until then.
      await new Promise((r) => setTimeout(r, 300));
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}

async function waitForBanner(port: number, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1");
      s.once("data", (d) => {
        s.end("QUIT\r\n");
        resolve(String(d).startsWith("220"));
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`postfix did not answer on port ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
