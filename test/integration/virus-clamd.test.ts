// Real clamd with its own EICAR signatures: our INSTREAM client finds EICAR as a base64
// attachment, in a zip, in a zip in a zip, split across chunk boundaries; passes a clean 20 MB
// attachment; reuses its connection; fails over; reports StreamMaxLength; survives a kill mid-scan.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Readable } from "node:stream";
import { ClamdClient } from "../../src/filters/virus/clamd-client.ts";
import { ClamdUnavailableError } from "../../src/filters/virus/errors.ts";
import { freePort } from "../helpers/ports.ts";
import { EICAR, haveClamd, makeZip, mimeMessage, startClamd, type Clamd } from "../helpers/clamd.ts";

const have = haveClamd();
const once = (b: Buffer) => () => Readable.from([b]);

describe.skipIf(!have)("clamd INSTREAM client", () => {
  let clamd: Clamd;
  let small: Clamd;
  beforeAll(async () => {
    [clamd, small] = await Promise.all([startClamd(), startClamd({ streamMaxLength: "1M" })]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([clamd?.stop(), small?.stop()]);
  });

  const client = (chunkBytes = 65536, endpoints = [{ host: "127.0.0.1", port: clamd.port }]) =>
    new ClamdClient({ endpoints, timeoutMs: 10_000, chunkBytes });

  it("finds EICAR as a base64 attachment, over TCP and the unix socket", async () => {
    const msg = mimeMessage({ attachments: [{ filename: "eicar.com", data: EICAR }] });
    for (const c of [client(), client(65536, [{ socket: clamd.socket }] as never)]) {
      const r = await c.scan(once(msg));
      expect(r.status).toBe("infected");
      expect(r.status === "infected" && r.signatures[0]).toMatch(/^Custom\.Eicar-Test-(HDB|NDB)/);
      c.close();
    }
  });

  it("finds EICAR in a zip and in a zip inside a zip (deflated)", async () => {
    const c = client();
    const inner = makeZip([{ name: "eicar.txt", data: EICAR, deflate: true }]);
    const outer = makeZip([
      { name: "inner.zip", data: inner },
      { name: "readme.txt", data: Buffer.from("hi") },
    ]);
    for (const z of [inner, outer]) {
      const r = await c.scan(once(mimeMessage({ attachments: [{ filename: "files.zip", data: z }] })));
      expect(r.status).toBe("infected");
    }
    c.close();
  });

  it("finds EICAR split across chunk boundaries (7-byte chunks, 5-byte source pieces)", async () => {
    const msg = mimeMessage({ attachments: [{ filename: "e.bin", data: EICAR }] });
    const pieces: Buffer[] = [];
    for (let i = 0; i < msg.length; i += 5) pieces.push(msg.subarray(i, i + 5));
    const c = client(7);
    expect((await c.scan(() => Readable.from(pieces))).status).toBe("infected");
    c.close();
  });

  it("passes a clean 20 MB attachment and the clean control message", async () => {
    const big = Buffer.alloc(20 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
    const c = client();
    const started = Date.now();
    expect(
      (await c.scan(once(mimeMessage({ attachments: [{ filename: "data.bin", data: big }] })))).status,
    ).toBe("clean");
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await c.scan(once(mimeMessage()))).status).toBe("clean");
    c.close();
  }, 30_000);

  it("reuses one connection for consecutive scans (IDSESSION)", async () => {
    const c = client();
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await c.scan(once(mimeMessage())));
    expect(results.map((r) => r.reused)).toEqual([false, true, true, true, true]);
    expect(c.stats).toMatchObject({ connects: 1, reuses: 4 });
    c.close();
  });

  it("reports a stream above StreamMaxLength as too-large and keeps working", async () => {
    const c = client(65536, [{ host: "127.0.0.1", port: small.port }]);
    const big = mimeMessage({ attachments: [{ filename: "x.bin", data: Buffer.alloc(2 * 1024 * 1024, 7) }] });
    expect((await c.scan(once(big))).status).toBe("too-large");
    expect((await c.scan(once(mimeMessage()))).status).toBe("clean");
    c.close();
  });

  it("fails over to the next instance when the first is down", async () => {
    const dead = await freePort();
    const c = client(65536, [
      { host: "127.0.0.1", port: dead },
      { host: "127.0.0.1", port: clamd.port },
    ]);
    const r = await c.scan(once(mimeMessage({ attachments: [{ filename: "e.com", data: EICAR }] })));
    expect(r).toMatchObject({ status: "infected", endpoint: `127.0.0.1:${clamd.port}` });
    expect(c.stats.failovers).toBe(1);
    c.close();
  });

  it("clamd killed mid-scan: the scan fails over, or fails as unavailable when alone", async () => {
    const victim = await startClamd();
    try {
      const slow = () =>
        Readable.from(
          (async function* () {
            for (let i = 0; i < 200; i++) {
              if (i === 3) victim.kill();
              yield Buffer.alloc(64 * 1024, 0x41);
              await new Promise((r) => setTimeout(r, 5));
            }
          })(),
        );
      const alone = client(65536, [{ host: "127.0.0.1", port: victim.port }]);
      const err = await alone.scan(slow).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ClamdUnavailableError);
      expect((err as ClamdUnavailableError).attempts[0]?.kind).toMatch(/closed|connect/);
      alone.close();
    } finally {
      await victim.stop();
    }
    const victim2 = await startClamd();
    try {
      let killed = false;
      const src = () =>
        Readable.from(
          (async function* () {
            for (let i = 0; i < 50; i++) {
              if (i === 3 && !killed) {
                killed = true;
                victim2.kill();
              }
              yield Buffer.alloc(64 * 1024, 0x41);
            }
          })(),
        );
      const pair = client(65536, [
        { host: "127.0.0.1", port: victim2.port },
        { host: "127.0.0.1", port: clamd.port },
      ]);
      expect(await pair.scan(src)).toMatchObject({ status: "clean", endpoint: `127.0.0.1:${clamd.port}` });
      pair.close();
    } finally {
      await victim2.stop();
    }
  }, 60_000);
});
