// Starts a throwaway SpamAssassin spamd (Bayes on, network tests off, TELL allowed) on a free
// loopback port for integration tests and the benchmark; trains it with sa-learn. Not for production.
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { spamdRequest } from "../../src/filters/spam/spamc-client.ts";
import { chownTo, freePort, missingPackage, serviceDir, start, stop, waitFor } from "./spam-services.ts";

const run = promisify(execFile);
export const SPAMD_BIN = "/usr/sbin/spamd";

export interface Spamd {
  host: string;
  port: number;
  dir: string;
  pid: number;
  /** Learn messages (raw bytes) with sa-learn, as the spamd user. */
  learn(spam: Buffer[], ham: Buffer[]): Promise<void>;
  close(): Promise<void>;
}

export function spamdMissing(): string | null {
  return missingPackage("spamassassin (and spamc)", [SPAMD_BIN, "/usr/bin/sa-learn"]);
}

export async function startSpamd(opts: { children?: number; minLearned?: number } = {}): Promise<Spamd> {
  const dir = serviceDir("spamd");
  const bayes = join(dir, "bayes");
  mkdirSync(bayes);
  chownTo("debian-spamd", bayes);
  const port = await freePort();
  const minLearned = opts.minLearned ?? 200;
  const child = start(
    SPAMD_BIN,
    [
      "-L",
      "-x",
      "-l",
      "-u",
      "debian-spamd",
      "-i",
      `127.0.0.1:${port}`,
      "-A",
      "127.0.0.1",
      "-m",
      String(opts.children ?? 2),
      "-s",
      join(dir, "spamd.log"),
      "-r",
      join(dir, "spamd.pid"),
      "--cf",
      "use_bayes 1",
      "--cf",
      "bayes_auto_learn 0",
      "--cf",
      `bayes_path ${bayes}/bayes`,
      "--cf",
      "dns_available no",
      "--cf",
      `bayes_min_spam_num ${minLearned}`,
      "--cf",
      `bayes_min_ham_num ${minLearned}`,
    ],
    join(dir, "spamd.out"),
  );
  const addr = { host: "127.0.0.1", port };
  try {
    await waitFor(
      "spamd",
      60_000,
      async () => (await spamdRequest(addr, "PING", null, {}, 2000)).code === 0,
      child,
    );
  } catch (err) {
    await stop(child);
    throw err;
  }
  let batch = 0;
  return {
    ...addr,
    dir,
    pid: child.pid!,
    async learn(spam, ham) {
      for (const [cls, msgs] of [
        ["spam", spam],
        ["ham", ham],
      ] as const) {
        if (msgs.length === 0) continue;
        const d = join(dir, `learn-${batch++}-${cls}`);
        mkdirSync(d);
        msgs.forEach((m, i) => writeFileSync(join(d, `${i}.eml`), m));
        chownTo("debian-spamd", d);
        await run(
          "runuser",
          ["-u", "debian-spamd", "--", "sa-learn", "-L", "--dbpath", bayes, `--${cls}`, d],
          { maxBuffer: 1 << 24 },
        );
      }
    },
    close: () => stop(child),
  };
}
