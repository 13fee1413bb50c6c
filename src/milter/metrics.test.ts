import { afterEach, describe, expect, it } from "vitest";
import { connect, type Socket } from "node:net";
import { pino } from "pino";
import { Registry } from "prom-client";
import type { Session } from "../pipeline/session.ts";
import { Cmd } from "./constants.ts";
import { FrameReader, frame, type Frame } from "./framing.ts";
import { MilterServer } from "./server.ts";

const servers: MilterServer[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const z = (s: string) => Buffer.from(s + "\0");
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

/** Just enough of a Session for the envelope: every stage is accepted. */
function envelopeOnly(): Session {
  const ok = async () => ({ ok: true as const });
  return {
    tx: null,
    connect: ok,
    helo: ok,
    mail: ok,
    rcpt: ok,
    setTls: () => undefined,
    setAuth: () => undefined,
    beginData: () => {
      throw new Error("no message in this test");
    },
    data: () => Promise.reject(new Error("no message in this test")),
    reset: async () => undefined,
    close: async () => undefined,
  };
}

/** A bare MTA: sends packets, collects reply packets. */
async function mtaClient(
  port: number,
): Promise<{ send(...p: Buffer[]): void; replies(n: number): Promise<Frame[]> }> {
  const socket = connect(port, "127.0.0.1");
  sockets.push(socket);
  await new Promise((r) => socket.once("connect", r));
  const reader = new FrameReader();
  const got: Frame[] = [];
  let wake: (() => void) | null = null;
  socket.on("data", (c: Buffer) => {
    got.push(...reader.push(c));
    wake?.();
  });
  return {
    send: (...p) => socket.write(Buffer.concat(p)),
    replies: async (n) => {
      while (got.length < n) await new Promise<void>((r) => (wake = r));
      return got.splice(0, n);
    },
  };
}

async function commands(registry: Registry): Promise<Record<string, number>> {
  const m = await registry.getSingleMetric("sluice_milter_commands_total")!.get();
  return Object.fromEntries(m.values.map((v) => [String(v.labels.command), v.value]));
}

async function answered(registry: Registry, command: string): Promise<number> {
  const m = await registry.getSingleMetric("sluice_milter_answer_duration_seconds")!.get();
  const count = (v: (typeof m.values)[number]) =>
    (v as { metricName?: string }).metricName?.endsWith("_count") && v.labels.command === command;
  return m.values.find(count)?.value ?? 0;
}

describe("milter metrics", () => {
  it("sluice_milter_commands_total counts each command, and answers are timed", async () => {
    const registry = new Registry();
    const server = new MilterServer({
      newSession: envelopeOnly,
      commit: async () => [],
      logger: pino({ level: "silent" }),
      progressIntervalMs: 0,
      metrics: registry,
    });
    servers.push(server);
    const { port } = await server.listen("inet:127.0.0.1:0");
    const mta = await mtaClient(port!);

    mta.send(frame(Cmd.OPTNEG, Buffer.concat([u32(6), u32(0x1ff), u32(0x1fffff)])));
    expect(String.fromCharCode((await mta.replies(1))[0]!.cmd)).toBe("O");
    mta.send(
      frame(Cmd.MACRO, Buffer.concat([Buffer.from([Cmd.CONNECT]), z("j"), z("mx.test")])),
      frame(
        Cmd.CONNECT,
        Buffer.concat([z("client.test"), Buffer.from("4"), Buffer.from([0, 25]), z("192.0.2.1")]),
      ),
      frame(Cmd.HELO, z("client.test")),
      frame(Cmd.MAIL, z("<a@client.test>")),
      frame(Cmd.RCPT, z("<b@mx.test>")),
    );
    // The default negotiation answers every envelope stage.
    expect((await mta.replies(4)).map((f) => String.fromCharCode(f.cmd))).toEqual(["c", "c", "c", "c"]);
    expect(await commands(registry)).toEqual({ optneg: 1, macro: 1, connect: 1, helo: 1, mail: 1, rcpt: 1 });
    expect(await answered(registry, "mail")).toBe(1);
    expect(await answered(registry, "rcpt")).toBe(1);

    // It keeps moving: a second transaction adds to the counts already reported.
    mta.send(frame(Cmd.ABORT), frame(Cmd.MAIL, z("<c@client.test>")), frame(Cmd.RCPT, z("<d@mx.test>")));
    await mta.replies(2);
    expect(await commands(registry)).toMatchObject({ abort: 1, mail: 2, rcpt: 2, connect: 1 });
    expect(await answered(registry, "rcpt")).toBe(2);
  });

  it("servers sharing a registry add up", async () => {
    const registry = new Registry();
    const ports: number[] = [];
    for (let i = 0; i < 2; i++) {
      const server = new MilterServer({
        newSession: envelopeOnly,
        commit: async () => [],
        logger: pino({ level: "silent" }),
        progressIntervalMs: 0,
        metrics: registry,
      });
      servers.push(server);
      ports.push((await server.listen("inet:127.0.0.1:0")).port!);
    }
    for (const port of ports) {
      const mta = await mtaClient(port);
      mta.send(frame(Cmd.OPTNEG, Buffer.concat([u32(6), u32(0x1ff), u32(0x1fffff)])));
      await mta.replies(1);
    }
    expect(await commands(registry)).toEqual({ optneg: 2 });
  });
});
