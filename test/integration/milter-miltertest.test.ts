// Sluice's milter server checked by an independent MTA-side implementation: miltertest
// (libmilter's protocol in C, scripted in Lua). Needs the Debian package `miltertest`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { pino } from "pino";
import { MilterServer } from "../../src/milter/server.ts";
import { FakeSession } from "../../src/pipeline/session.fake.ts";
import type { OutcomeGroup } from "../../src/pipeline/session.ts";
import { wantedFor } from "../../src/milter/negotiation.ts";
import type { EnvelopeStage } from "../../src/pipeline/stage-needs.ts";

const run = promisify(execFile);
const MILTERTEST = "/usr/bin/miltertest";

function available(): boolean {
  if (existsSync(MILTERTEST)) return true;
  if (process.env.CI === "true")
    throw new Error("CI=true but the Debian package `miltertest` is not installed");
  console.warn("skipping: needs the Debian package `miltertest`");
  return false;
}

const group = (recipients: string[], over: Partial<OutcomeGroup> = {}): OutcomeGroup => ({
  recipients,
  disposition: "deliver",
  edits: [],
  bcc: [],
  redirect: null,
  reason: null,
  holdMinutes: null,
  ...over,
});

async function miltertest(script: string, defines: string[]): Promise<string> {
  try {
    const args = [...defines.flatMap((d) => ["-D", d]), "-s", join(import.meta.dirname, script)];
    return (await run(MILTERTEST, args, { timeout: 30000 })).stdout;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`miltertest failed: ${err.message}\n${err.stdout ?? ""}\n${err.stderr ?? ""}`, {
      cause: e,
    });
  }
}

const present = available();

describe.skipIf(!present)("miltertest against the milter server", () => {
  let server: MilterServer;
  let port = 0;
  const sessions: FakeSession[] = [];

  beforeAll(async () => {
    server = new MilterServer({
      newSession: () => {
        const s = new FakeSession({
          rcpt: (a) =>
            a.startsWith("reject@")
              ? { ok: false, reply: { code: 550, enhanced: "5.1.1", text: "unknown" } }
              : { ok: true },
          data: (tx) => {
            const subject = tx.headers.get("Subject");
            const rcpts = tx.envelope.recipients.map((r) => r.address);
            if (subject === "REJECT") {
              return {
                reply: { code: 550, enhanced: "5.7.1", text: "Rejected by policy" },
                groups: [],
                verdicts: [],
              };
            }
            if (subject === "QUARANTINE") {
              return {
                reply: null,
                groups: [group(rcpts, { disposition: "quarantine", reason: "spam" })],
                verdicts: [],
              };
            }
            return {
              reply: null,
              verdicts: [],
              groups: [
                group(
                  rcpts.filter((r) => !r.startsWith("gone@")),
                  {
                    edits: [
                      { op: "add", name: "X-Sluice", value: "scanned" },
                      { op: "add", name: "Authentication-Results", value: "mx; none" },
                      { op: "delete", name: "X-Drop" },
                    ],
                    bcc: ["archive@archive.test"],
                  },
                ),
                ...(rcpts.some((r) => r.startsWith("gone@"))
                  ? [group(["gone@rcpt.test"], { disposition: "discard" })]
                  : []),
              ],
            };
          },
        });
        sessions.push(s);
        return s;
      },
      commit: async () => [],
      logger: pino({ level: "warn" }),
      quarantineMode: "mta",
    });
    port = (await server.listen("inet:127.0.0.1:0")).port!;
  });

  afterAll(async () => server?.close());

  it("passes every check of the Lua script", async () => {
    const stdout = await miltertest("milter-miltertest.lua", [`port=${port}`]);
    expect(stdout).toContain("all checks passed");
    expect(stdout).not.toContain("FAILED");
    // The session side saw what the script sent.
    const s = sessions[0]!;
    expect(s.calls.find((c) => c.call === "setAuth")).toEqual({ call: "setAuth", login: "alice" });
    expect(s.calls.find((c) => c.call === "connect")).toMatchObject({
      info: { address: "192.0.2.9", localName: "mx.sluice.test" },
    });
    expect(s.messages().map((m) => /Subject: ?(.*)\r\n/.exec(String(m))?.[1])).toEqual([
      "first",
      "REJECT",
      "QUARANTINE",
      "fifth",
    ]);
  });
});

describe.skipIf(!present)("miltertest: negotiation follows the configuration, replies stay correct", () => {
  let server: MilterServer;
  let port = 0;
  // What the configuration lets refuse before end of message, as start.ts derives it.
  let answer: EnvelopeStage[] = [];

  beforeAll(async () => {
    server = new MilterServer({
      // The session refuses reject@ at RCPT whatever was negotiated, as a filter at RCPT that a
      // configuration revision enabled after the MTA connection was opened would.
      newSession: () =>
        new FakeSession({
          rcpt: (a) =>
            a.startsWith("reject@")
              ? { ok: false, reply: { code: 550, enhanced: "5.1.1", text: "unknown" } }
              : { ok: true },
          data: (tx) => ({
            reply: null,
            verdicts: [],
            groups: [
              group(
                tx.envelope.recipients.map((r) => r.address),
                { edits: [{ op: "add", name: "X-Sluice", value: "scanned" }] },
              ),
            ],
          }),
        }),
      commit: async () => [],
      logger: pino({ level: "silent" }),
      wanted: () => wantedFor({ answer: new Set(answer), filters: [] }),
    });
    port = (await server.listen("inet:127.0.0.1:0")).port!;
  });

  afterAll(async () => server?.close());

  it("RCPT without replies: a refused recipient is answered at end of message", async () => {
    answer = [];
    const stdout = await miltertest("milter-miltertest-nr.lua", [`port=${port}`, "phase=before"]);
    expect(stdout).toContain("all checks passed");
  });

  it("after the configuration gains a filter at RCPT, new connections wait for RCPT replies", async () => {
    answer = ["rcpt"];
    const stdout = await miltertest("milter-miltertest-nr.lua", [`port=${port}`, "phase=after"]);
    expect(stdout).toContain("all checks passed");
  });
});
