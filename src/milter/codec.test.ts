import { describe, expect, it } from "vitest";
import { decodeCommand, type Command } from "./commands.ts";
import { Cmd } from "./constants.ts";
import { ProtocolError } from "./errors.ts";
import { FrameReader, frame } from "./framing.ts";
import { encodeReply, formatReplyCode, isFinal, replaceBody, type Reply } from "./replies.ts";
import { mta } from "../../test/helpers/milter-mta.ts";

const hex = (b: Buffer) => b.toString("hex");
const one = (packet: Buffer): Command => {
  const frames = new FrameReader().push(packet);
  expect(frames).toHaveLength(1);
  return decodeCommand(frames[0]!);
};
const raw = (cmd: number, data: Buffer | string) => ({ cmd, data: Buffer.from(data) });
const protocolError = (fn: () => unknown, reason: string) => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    expect((e as ProtocolError).reason).toBe(reason);
    return;
  }
  throw new Error("expected a ProtocolError");
};

describe("framing", () => {
  it("frames length + command + data, big-endian", () => {
    expect(hex(frame(0x63))).toBe("0000000163");
    expect(hex(frame(0x68, Buffer.from("ab")))).toBe("000000036861" + "62");
  });

  it("reassembles packets split at every byte and several packets in one chunk", () => {
    const stream = Buffer.concat([mta.helo("mx.example"), mta.data(), mta.body("hello")]);
    const r = new FrameReader();
    const got = [];
    for (const b of stream) got.push(...r.push(Buffer.from([b])));
    expect(got.map((f) => String.fromCharCode(f.cmd))).toEqual(["H", "T", "B"]);
    expect(got[2]!.data.toString()).toBe("hello");
    expect(r.buffered).toBe(0);
    expect(new FrameReader().push(stream)).toHaveLength(3);
  });

  it("holds only the incomplete packet", () => {
    const r = new FrameReader();
    const p = mta.body(Buffer.alloc(1000, 0x61));
    expect(r.push(p.subarray(0, 500))).toEqual([]);
    expect(r.buffered).toBe(500);
    expect(r.push(p.subarray(500))).toHaveLength(1);
  });

  it("joins a 1 MiB packet arriving in 64 KiB pieces into one exact frame", () => {
    const r = new FrameReader(1024 * 1024 - 1);
    const data = Buffer.alloc(1024 * 1024 - 1);
    for (let i = 0; i < data.length; i++) data[i] = i & 0xff;
    const p = Buffer.concat([mta.body(data), mta.eoh()]);
    const got = [];
    for (let i = 0; i < p.length; i += 65536) got.push(...r.push(p.subarray(i, i + 65536)));
    expect(got.map((f) => f.cmd)).toEqual([Cmd.BODY, Cmd.EOH]);
    expect(got[0]!.data.equals(data)).toBe(true);
    expect(r.buffered).toBe(0);
  });

  it("rejects length 0", () => {
    protocolError(() => new FrameReader().push(Buffer.from([0, 0, 0, 0])), "bad-length");
  });

  it("rejects a declared length over the limit from the header alone, before the data arrives", () => {
    const header = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x42]);
    protocolError(() => new FrameReader().push(header), "oversize");
    const justOver = Buffer.alloc(5);
    justOver.writeUInt32BE(65535 + 2);
    protocolError(() => new FrameReader().push(justOver), "oversize");
    const atLimit = Buffer.alloc(5);
    atLimit.writeUInt32BE(65535 + 1);
    expect(new FrameReader().push(atLimit)).toEqual([]);
  });

  it("accepts larger packets once MDS_1M is negotiated", () => {
    const r = new FrameReader();
    r.maxData = 1024 * 1024 - 1;
    expect(r.push(mta.body(Buffer.alloc(200_000)))).toHaveLength(1);
  });
});

describe("commands", () => {
  it("OPTNEG", () => {
    expect(one(mta.optneg(6, 0x1ff, 0x1fffff))).toEqual({
      type: "optneg",
      version: 6,
      actions: 0x1ff,
      protocol: 0x1fffff,
    });
    expect(hex(mta.optneg(6, 0x1ff, 0x1fffff))).toBe("0000000d4f00000006000001ff001fffff");
    protocolError(() => decodeCommand(raw(Cmd.OPTNEG, Buffer.alloc(8))), "truncated");
  });

  it("MACRO", () => {
    expect(one(mta.macro(Cmd.CONNECT, { j: "mx.example", "{daemon_name}": "smtpd" }))).toEqual({
      type: "macro",
      stage: Cmd.CONNECT,
      macros: [
        ["j", "mx.example"],
        ["{daemon_name}", "smtpd"],
      ],
    });
    expect(one(frame(Cmd.MACRO, Buffer.from("M")))).toEqual({ type: "macro", stage: Cmd.MAIL, macros: [] });
    protocolError(() => decodeCommand(raw(Cmd.MACRO, "")), "truncated");
    protocolError(() => decodeCommand(raw(Cmd.MACRO, "Cj\0")), "malformed");
    protocolError(() => decodeCommand(raw(Cmd.MACRO, "Cj\0value")), "truncated");
  });

  it("CONNECT for every family", () => {
    expect(one(mta.connect("mx.example", "4", 25, "192.0.2.1"))).toEqual({
      type: "connect",
      hostname: "mx.example",
      family: "4",
      port: 25,
      address: "192.0.2.1",
    });
    expect(one(mta.connect("h", "6", 587, "IPv6:2001:db8::1"))).toMatchObject({
      family: "6",
      port: 587,
      address: "2001:db8::1",
    });
    expect(one(mta.connect("h", "6", 1, "2001:db8::2"))).toMatchObject({ address: "2001:db8::2" });
    expect(one(mta.connect("local", "L", 0, "/var/run/sock"))).toMatchObject({
      family: "L",
      port: 0,
      address: "/var/run/sock",
    });
    expect(one(mta.connect("unknown", "U"))).toEqual({
      type: "connect",
      hostname: "unknown",
      family: "U",
      port: null,
      address: null,
    });
    expect(hex(mta.connect("h", "4", 0x1234, "1.2.3.4"))).toBe(
      "0000000e43" + "6800" + "34" + "1234" + hex(Buffer.from("1.2.3.4\0")),
    );
  });

  it("CONNECT malformed cases", () => {
    protocolError(() => decodeCommand(raw(Cmd.CONNECT, "host")), "truncated");
    protocolError(() => decodeCommand(raw(Cmd.CONNECT, "host\0")), "truncated");
    protocolError(() => decodeCommand(raw(Cmd.CONNECT, "host\0X")), "malformed");
    protocolError(() => decodeCommand(raw(Cmd.CONNECT, "host\x004\x00")), "truncated");
    protocolError(() => decodeCommand(raw(Cmd.CONNECT, "host\x004\x00\x191.2.3.4")), "truncated");
  });

  it("HELO, MAIL, RCPT with ESMTP arguments", () => {
    expect(one(mta.helo("client.example"))).toEqual({ type: "helo", name: "client.example" });
    expect(one(mta.mail("<a@example.org>", "SIZE=100", "BODY=8BITMIME"))).toEqual({
      type: "mail",
      args: ["<a@example.org>", "SIZE=100", "BODY=8BITMIME"],
    });
    expect(one(mta.rcpt("<b@example.net>"))).toEqual({ type: "rcpt", args: ["<b@example.net>"] });
    expect(one(mta.mail("<>"))).toEqual({ type: "mail", args: ["<>"] });
    protocolError(() => decodeCommand(raw(Cmd.MAIL, "")), "truncated");
    protocolError(() => decodeCommand(raw(Cmd.RCPT, "<b@x")), "truncated");
    protocolError(() => decodeCommand(raw(Cmd.HELO, "x")), "truncated");
  });

  it("DATA, EOH, ABORT, QUIT, QUIT_NC carry no data", () => {
    expect(one(mta.data())).toEqual({ type: "data" });
    expect(one(mta.eoh())).toEqual({ type: "eoh" });
    expect(one(mta.abort())).toEqual({ type: "abort" });
    expect(one(mta.quit())).toEqual({ type: "quit" });
    expect(one(mta.quitNc())).toEqual({ type: "quit_nc" });
    protocolError(() => decodeCommand(raw(Cmd.DATA, "x")), "malformed");
    protocolError(() => decodeCommand(raw(Cmd.EOH, "x")), "malformed");
  });

  it("HEADER keeps the value bytes exactly, including a leading space and 8-bit bytes", () => {
    const h = one(frame(Cmd.HEADER, Buffer.from([...Buffer.from("Subject\0 caf"), 0xe9, 0]))) as Extract<
      Command,
      { type: "header" }
    >;
    expect(h.name).toBe("Subject");
    expect(hex(h.value)).toBe(hex(Buffer.from([0x20, 0x63, 0x61, 0x66, 0xe9])));
    protocolError(() => decodeCommand(raw(Cmd.HEADER, "Subject\0value")), "truncated");
    protocolError(() => decodeCommand(raw(Cmd.HEADER, "\0value\0")), "malformed");
  });

  it("BODY and BODYEOB with and without a final chunk", () => {
    const b = one(mta.body("line\r\n")) as Extract<Command, { type: "body" }>;
    expect(b.chunk.toString()).toBe("line\r\n");
    expect((one(mta.eom()) as Extract<Command, { type: "eom" }>).chunk.length).toBe(0);
    expect((one(mta.eom("tail\r\n")) as Extract<Command, { type: "eom" }>).chunk.toString()).toBe("tail\r\n");
  });

  it("UNKNOWN and unknown command bytes", () => {
    expect(one(mta.unknown("XFOO bar"))).toEqual({ type: "unknown", line: "XFOO bar" });
    protocolError(() => decodeCommand(raw(0x5a, "")), "unknown-command");
  });
});

describe("replies", () => {
  const enc = (r: Reply) => hex(encodeReply(r));
  const s = (x: string) => hex(Buffer.from(x + "\0"));

  it("actions without data", () => {
    expect(enc({ type: "continue" })).toBe("0000000163");
    expect(enc({ type: "accept" })).toBe("0000000161");
    expect(enc({ type: "discard" })).toBe("0000000164");
    expect(enc({ type: "reject" })).toBe("0000000172");
    expect(enc({ type: "tempfail" })).toBe("0000000174");
    expect(enc({ type: "skip" })).toBe("0000000173");
    expect(enc({ type: "progress" })).toBe("0000000170");
    expect(enc({ type: "conn_fail" })).toBe("0000000166");
    expect(enc({ type: "shutdown" })).toBe("0000000134");
  });

  it("REPLYCODE, single and multi-line, % doubled", () => {
    expect(enc({ type: "replycode", code: 550, enhanced: "5.7.1", text: "100% spam" })).toBe(
      "0000001679" + s("550 5.7.1 100%% spam"),
    );
    expect(formatReplyCode(451, "4.7.1", "try\nlater")).toBe("451-4.7.1 try\r\n451 4.7.1 later");
    expect(formatReplyCode(554, "", "no")).toBe("554 no");
    expect(() => formatReplyCode(250, "2.0.0", "ok")).toThrow(RangeError);
    expect(() => formatReplyCode(550, "4.7.1", "x")).toThrow(RangeError);
    expect(() => formatReplyCode(550, "5.7.1", Array(33).fill("l").join("\n"))).toThrow(RangeError);
  });

  it("header modifications", () => {
    expect(enc({ type: "addheader", name: "X-A", value: "1" })).toBe("0000000768" + s("X-A") + s("1"));
    expect(enc({ type: "insheader", index: 0, name: "X-A", value: "1" })).toBe(
      "0000000b69" + "00000000" + s("X-A") + s("1"),
    );
    expect(enc({ type: "chgheader", index: 2, name: "X-A", value: "" })).toBe(
      "0000000a6d" + "00000002" + s("X-A") + "00",
    );
  });

  it("recipient, sender, body and quarantine modifications", () => {
    expect(enc({ type: "addrcpt", rcpt: "<a@b>" })).toBe("000000072b" + s("<a@b>"));
    expect(enc({ type: "addrcpt_par", rcpt: "<a@b>", args: ["NOTIFY=NEVER"] })).toBe(
      "0000001432" + s("<a@b>") + s("NOTIFY=NEVER"),
    );
    expect(enc({ type: "delrcpt", rcpt: "<a@b>" })).toBe("000000072d" + s("<a@b>"));
    expect(enc({ type: "chgfrom", sender: "<s@x>", args: [] })).toBe("0000000765" + s("<s@x>"));
    expect(enc({ type: "replbody", chunk: Buffer.from("hi\r\n") })).toBe(
      "0000000562" + hex(Buffer.from("hi\r\n")),
    );
    expect(enc({ type: "quarantine", reason: "spam" })).toBe("0000000671" + s("spam"));
    expect(enc({ type: "addheader", name: "X\0Y", value: "v" })).toBe("0000000668" + s("XY") + s("v"));
  });

  it("REPLBODY is split at the negotiated data size", () => {
    const parts = replaceBody(Buffer.alloc(150_000), 65535);
    expect(parts.map((p) => (p.type === "replbody" ? p.chunk.length : -1))).toEqual([65535, 65535, 18930]);
  });

  it("OPTNEG reply with SETSYMLIST macro lists", () => {
    expect(enc({ type: "optneg", version: 6, actions: 0x13d, protocol: 0x100480 })).toBe(
      "0000000d4f" + "00000006" + "0000013d" + "00100480",
    );
    expect(
      enc({
        type: "optneg",
        version: 6,
        actions: 0x100,
        protocol: 0,
        macros: new Map([[1, "{tls_version} {cipher}"]]),
      }),
    ).toBe("000000284f" + "00000006" + "00000100" + "00000000" + "00000001" + s("{tls_version} {cipher}"));
  });

  it("tells final actions from modifications", () => {
    expect(isFinal({ type: "continue" })).toBe(true);
    expect(isFinal({ type: "replycode", code: 550, enhanced: "", text: "x" })).toBe(true);
    expect(isFinal({ type: "addheader", name: "a", value: "b" })).toBe(false);
    expect(isFinal({ type: "progress" })).toBe(false);
  });
});
