// `sluice serve` as a packaged node runs it: started as root with --user, it binds a privileged
// port, gives its files to the user and drops to it (then still writes its store and maildir);
// SIGHUP reads renewed TLS certificates for STARTTLS and port 465, and refuses a broken pair.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect as netConnect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { afterAll, describe, expect, it } from "vitest";
import { NODE, SLUICE } from "../helpers/cli.ts";
import { freePort } from "../helpers/ports.ts";

const root = process.getuid?.() === 0;
const nobody = root ? Number(execFileSync("id", ["-u", "nobody"], { encoding: "utf8" })) : -1;
if (!root) console.warn("skipping privilege drop: not root (the test binds a port below 1024)");

function cert(dir: string, cn: string): void {
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "2",
      "-subj",
      `/CN=${cn}`,
      "-keyout",
      join(dir, "mx.key"),
      "-out",
      join(dir, "mx.pem"),
    ],
    { stdio: "ignore" },
  );
}

/** A free port below 1024 (only root may bind it). */
async function privilegedPort(): Promise<number> {
  for (let p = 700; p < 1000; p++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(false));
      s.listen(p, "127.0.0.1", () => s.close(() => resolve(true)));
    });
    if (ok) return p;
  }
  throw new Error("no free port below 1024");
}

function lines(child: ChildProcess) {
  const seen: Record<string, unknown>[] = [];
  let buf = "";
  child.stdout!.on("data", (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf("\n")) !== -1) {
      seen.push(JSON.parse(buf.slice(0, nl)));
      buf = buf.slice(nl + 1);
    }
  });
  return {
    seen,
    async wait(pred: (l: Record<string, unknown>) => boolean, ms = 20_000) {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        const hit = seen.find(pred);
        if (hit) return hit;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`timeout; log:\n${seen.map((l) => JSON.stringify(l)).join("\n")}`);
    },
  };
}

function peerCn(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ port, host: "127.0.0.1", rejectUnauthorized: false }, () => {
      resolve(String(s.getPeerCertificate().subject?.CN));
      s.destroy();
    });
    s.on("error", reject);
  });
}

/** Banner, EHLO, STARTTLS, handshake: the certificate's CN. */
function starttlsCn(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = netConnect(port, "127.0.0.1");
    let buf = "";
    let step = 0;
    s.on("error", reject);
    s.on("data", (d) => {
      buf += d;
      if (step === 0 && /^220 .*\r\n$/m.test(buf)) {
        step = 1;
        buf = "";
        s.write("EHLO test.example\r\n");
      } else if (step === 1 && /^250 .*\r\n/m.test(buf)) {
        step = 2;
        buf = "";
        s.write("STARTTLS\r\n");
      } else if (step === 2 && /^220 /.test(buf)) {
        step = 3;
        s.removeAllListeners("data");
        const t = tlsConnect({ socket: s, rejectUnauthorized: false }, () => {
          resolve(String(t.getPeerCertificate().subject?.CN));
          t.destroy();
        });
        t.on("error", reject);
      }
    });
  });
}

/** One message through the proxy: the final reply line. */
function sendMail(port: number): Promise<string> {
  const script = ["EHLO t.example", "MAIL FROM:<a@remote.example>", "RCPT TO:<alice@example.com>", "DATA"];
  return new Promise((resolve, reject) => {
    const s = netConnect(port, "127.0.0.1");
    let buf = "";
    let i = -1;
    s.on("error", reject);
    s.on("data", (d) => {
      buf += d;
      const done = buf.split("\r\n").filter((l) => /^\d{3} /.test(l));
      if (done.length === 0) return;
      buf = "";
      const last = done[done.length - 1]!;
      if (i === script.length) {
        resolve(last);
        s.end("QUIT\r\n");
        return;
      }
      i++;
      if (i < script.length) s.write(script[i] + "\r\n");
      else s.write("Subject: after the drop\r\n\r\nhello\r\n.\r\n");
    });
  });
}

describe.skipIf(!root)("serve --user and TLS reload", () => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-priv-"));
  let child: ChildProcess | null = null;
  afterAll(() => {
    child?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("binds a port below 1024 as root, drops to nobody, reloads certificates on SIGHUP", async () => {
    execFileSync("chmod", ["0755", dir]); // as /var/lib is: the dropped node must reach its folders
    cert(dir, "first.example");
    const [smtpPort, tlsPort, webPort] = [await privilegedPort(), await freePort(), await freePort()];
    const config = join(dir, "sluice.yaml");
    writeFileSync(
      config,
      `store: sqlite:${dir}/state/sluice.db
spool: { dir: ${dir}/state/spool }
delivery: maildir:${dir}/maildir
web: { listen: "127.0.0.1:${webPort}" }
smtp:
  hostname: mx.example.com
  tls: { cert: ${dir}/mx.pem, key: ${dir}/mx.key }
  listeners:
    inbound: { listen: "127.0.0.1:${smtpPort}" }
    submission: { enabled: false }
    submissions: { listen: "127.0.0.1:${tlsPort}" }
milter: { enabled: false }
tenants:
  - id: example
    domains: [example.com]
    users: [{ address: alice@example.com, spam_filter: false }]
`,
    );
    child = spawn(NODE, [SLUICE, "serve", "--config", config, "--user", "nobody"], {
      cwd: dir,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const log = lines(child);
    const dropped = await log.wait((l) => l.msg === "privileges dropped after binding");
    expect(dropped).toMatchObject({ user: "nobody", uid: nobody });
    await log.wait((l) => l.msg === "ready");
    const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
    expect(status).toMatch(new RegExp(`^Uid:\\s+${nobody}\\s+${nobody}\\s+${nobody}\\s+${nobody}$`, "m"));
    expect(statSync(join(dir, "state", "sluice.db")).uid).toBe(nobody);

    // As nobody it still receives and delivers (spool, maildir) on the port root bound.
    expect(await sendMail(smtpPort)).toMatch(/^250 /);
    const delivered = readdirSync(join(dir, "maildir", "example.com", "alice", "new"));
    expect(delivered).toHaveLength(1);
    expect(statSync(join(dir, "maildir", "example.com", "alice", "new", delivered[0]!)).uid).toBe(nobody);

    const metrics = await (await fetch(`http://127.0.0.1:${webPort}/metrics`)).text();
    expect(metrics).toMatch(/^sluice_smtp_sessions_total\{listener="inbound",result="accepted"\} 1$/m);
    expect(metrics).toMatch(/^sluice_smtp_replies_total\{listener="inbound",code="250"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^sluice_delivery_attempts_total\{next_hop="maildir:[^"]+",result="ok"\} 1$/m);
    expect(await peerCn(tlsPort)).toBe("first.example");
    expect(await starttlsCn(smtpPort)).toBe("first.example");
    cert(dir, "renewed.example");
    execFileSync("chmod", ["0644", join(dir, "mx.key")]); // the node reads it as nobody now
    child.kill("SIGHUP");
    await log.wait((l) => l.msg === "TLS certificates reloaded");
    expect(await peerCn(tlsPort)).toBe("renewed.example");
    expect(await starttlsCn(smtpPort)).toBe("renewed.example");

    // A broken pair is refused; the renewed one stays.
    writeFileSync(join(dir, "mx.key"), "not a key\n");
    child.kill("SIGHUP");
    await log.wait(
      (l) => l.msg === "TLS certificate reload refused; the previous certificates stay in force",
    );
    expect(await peerCn(tlsPort)).toBe("renewed.example");
    child.kill("SIGTERM");
    await log.wait((l) => l.msg === "stopped");
  });
});
