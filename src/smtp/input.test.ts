import { describe, it, expect } from "vitest";
import { PassThrough } from "node:stream";
import { InputTimeoutError, SmtpInput } from "./input.ts";

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

/** Read DATA with a consumer that is slow (as the spool is when it spills to disk). */
async function readAll(input: SmtpInput, slowMs: number): Promise<Buffer | null> {
  const parts: Buffer[] = [];
  const res = await input.readData(async (b) => {
    parts.push(Buffer.from(b));
    if (slowMs) await tick(slowMs);
  });
  return res ? Buffer.concat(parts) : null;
}

describe("SmtpInput DATA framing", () => {
  it("keeps every byte of a long line that arrives while the consumer is busy", async () => {
    // Regression: bytes received during onChunk were dropped when a >64 KiB line was cut into
    // pieces (459 KB of a 1 MB header reached the next hop, or CRLF.CRLF was lost: a hang).
    const socket = new PassThrough();
    const input = new SmtpInput(socket, 1000);
    const line = Buffer.alloc(1_048_576, 0x61);
    const body = Buffer.concat([Buffer.from("X-Long: "), line, Buffer.from("\r\n\r\nbody\r\n")]);
    const done = readAll(input, 5);
    for (let i = 0; i < body.length; i += 16_384) {
      socket.write(body.subarray(i, i + 16_384));
      await tick();
    }
    socket.write(".\r\n");
    const got = await done;
    expect(got?.length).toBe(body.length);
    expect(got!.equals(body)).toBe(true);
  });

  it("finds the end of DATA that arrived together with a long line piece", async () => {
    const socket = new PassThrough();
    const input = new SmtpInput(socket, 1000);
    const body = Buffer.concat([Buffer.alloc(200_000, 0x62), Buffer.from("\r\n")]);
    const done = readAll(input, 20);
    socket.write(body.subarray(0, 100_000));
    await tick(1);
    socket.write(Buffer.concat([body.subarray(100_000), Buffer.from(".\r\nQUIT\r\n")]));
    const got = await Promise.race([done, tick(3000).then(() => "hang")]);
    expect(got).not.toBe("hang");
    expect((got as Buffer).equals(body)).toBe(true);
    expect(await input.readLine()).toBe("QUIT");
  });

  it("unstuffs a leading dot of a long line once", async () => {
    const socket = new PassThrough();
    const input = new SmtpInput(socket, 1000);
    const done = readAll(input, 0);
    socket.write(Buffer.concat([Buffer.from(".."), Buffer.alloc(100_000, 0x63), Buffer.from("\r\n.\r\n")]));
    const got = await done;
    expect(got!.length).toBe(100_003);
    expect(got!.subarray(0, 2).toString()).toBe(".c");
  });
});

describe("SmtpInput deadlines", () => {
  it("times a whole command line, not each byte (slowloris)", async () => {
    const socket = new PassThrough();
    const input = new SmtpInput(socket, 1000);
    input.deadlines = { idleMs: 5000, lineMs: 300, dataMs: 5000, minDataRate: 1 };
    const got = input.readLine().catch((e: unknown) => e);
    for (let i = 0; i < 10; i++) {
      socket.write("N");
      await tick(60);
    }
    const err = await got;
    expect(err).toBeInstanceOf(InputTimeoutError);
    expect((err as InputTimeoutError).phase).toBe("command");
  });

  it("applies the idle limit before the first byte of a command", async () => {
    const socket = new PassThrough();
    const input = new SmtpInput(socket, 1000);
    input.deadlines = { idleMs: 100, lineMs: 5000, dataMs: 5000, minDataRate: 1 };
    const err = await input.readLine().catch((e: unknown) => e);
    expect((err as InputTimeoutError).phase).toBe("idle");
  });

  it("cuts DATA that trickles in below the minimum rate", async () => {
    const socket = new PassThrough();
    const input = new SmtpInput(socket, 1000);
    // 300 ms of credit, 1,000 bytes/s earns 1 ms per byte: one byte every 30 ms loses ~29 ms each.
    input.deadlines = { idleMs: 5000, lineMs: 5000, dataMs: 300, minDataRate: 1000 };
    let at = 0;
    const got = readAll(input, 0).catch((e: unknown) => ((at = Date.now()), e));
    const t0 = Date.now();
    for (let i = 0; i < 40 && !at; i++) {
      socket.write("x");
      await tick(30);
    }
    const err = await got;
    expect(err).toBeInstanceOf(InputTimeoutError);
    expect((err as InputTimeoutError).phase).toBe("data");
    expect(at - t0).toBeGreaterThan(250);
    expect(at - t0).toBeLessThan(1000);
  });

  it("lets DATA at a good rate run longer than the initial credit", async () => {
    const socket = new PassThrough();
    const input = new SmtpInput(socket, 1000);
    input.deadlines = { idleMs: 5000, lineMs: 5000, dataMs: 200, minDataRate: 1000 };
    const done = readAll(input, 0);
    for (let i = 0; i < 20; i++) {
      socket.write("y".repeat(200) + "\r\n"); // 202 bytes per 30 ms ≈ 6.7 KB/s
      await tick(30);
    }
    socket.write(".\r\n");
    expect((await done)!.length).toBe(20 * 202);
  });
});
