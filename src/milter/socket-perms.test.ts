// The milter's unix socket gets the configured mode, owner and group right after binding.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { Runtime } from "../runtime.ts";
import { startMilter } from "./start.ts";

const root = process.getuid?.() === 0;

describe("milter.unix_socket", () => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-milter-sock-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!root)("sets mode, owner and group of unix:/path listeners", async () => {
    const sock = join(dir, "milter.sock");
    const runtime = await Runtime.create({
      store: "never",
      logger: pino({ level: "silent" }),
      configText: `milter:\n  listen: ["unix:${sock}"]\n  unix_socket: { mode: "0660", owner: nobody, group: "65534" }\n`,
    });
    const server = (await startMilter(runtime, pino({ level: "silent" })))!;
    try {
      const st = statSync(sock);
      expect(st.isSocket()).toBe(true);
      expect(st.mode & 0o777).toBe(0o660);
      expect(st.uid).toBe(Number(execFileSync("id", ["-u", "nobody"], { encoding: "utf8" })));
      expect(st.gid).toBe(65534);
      await new Promise<void>((resolve, reject) => {
        const c = createConnection(sock, () => {
          c.destroy();
          resolve();
        });
        c.on("error", reject);
      });
    } finally {
      await server.close();
      await runtime.close();
    }
  });

  it("refuses a mode that is not octal", async () => {
    await expect(
      Runtime.create({ store: "never", configText: `milter:\n  unix_socket: { mode: "rw-rw----" }\n` }),
    ).rejects.toThrow("milter.unix_socket.mode: an octal mode such as 0660");
  });
});
