// Decodes one milter packet from the MTA (SMFIC_*) into a typed command.
// Pure: no state, no ordering rules (connection.ts checks order); malformed data throws ProtocolError.
import { Cmd } from "./constants.ts";
import { ProtocolError } from "./errors.ts";
import type { Frame } from "./framing.ts";

export type Family = "U" | "L" | "4" | "6";

export type Command =
  | { type: "optneg"; version: number; actions: number; protocol: number }
  | { type: "macro"; stage: number; macros: [string, string][] }
  | { type: "connect"; hostname: string; family: Family; port: number | null; address: string | null }
  | { type: "helo"; name: string }
  | { type: "mail"; args: string[] }
  | { type: "rcpt"; args: string[] }
  | { type: "data" }
  | { type: "header"; name: string; value: Buffer }
  | { type: "eoh" }
  | { type: "body"; chunk: Buffer }
  | { type: "eom"; chunk: Buffer }
  | { type: "abort" }
  | { type: "quit" }
  | { type: "quit_nc" }
  | { type: "unknown"; line: string };

export type CommandType = Command["type"];

/** Read a NUL-terminated string at pos; returns the string bytes and the position after the NUL. */
function readStr(data: Buffer, pos: number, what: string): { value: Buffer; next: number } {
  const nul = data.indexOf(0, pos);
  if (nul === -1) throw new ProtocolError("truncated", `${what}: missing NUL terminator`);
  return { value: data.subarray(pos, nul), next: nul + 1 };
}

/** str[]: consecutive NUL-terminated strings filling the packet (decoded in place, no views). */
function readStrArray(data: Buffer, what: string, from = 0): string[] {
  const out: string[] = [];
  let pos = from;
  while (pos < data.length) {
    const nul = data.indexOf(0, pos);
    if (nul === -1) throw new ProtocolError("truncated", `${what}: missing NUL terminator`);
    out.push(data.toString("utf8", pos, nul));
    pos = nul + 1;
  }
  return out;
}

function expectEmpty(data: Buffer, what: string): void {
  if (data.length !== 0)
    throw new ProtocolError("malformed", `${what}: unexpected ${data.length} data bytes`);
}

export function decodeCommand(f: Frame): Command {
  const d = f.data;
  switch (f.cmd) {
    case Cmd.OPTNEG: {
      if (d.length < 12) throw new ProtocolError("truncated", `OPTNEG: ${d.length} bytes, need 12`);
      return {
        type: "optneg",
        version: d.readUInt32BE(0),
        actions: d.readUInt32BE(4),
        protocol: d.readUInt32BE(8),
      };
    }
    case Cmd.MACRO: {
      if (d.length < 1) throw new ProtocolError("truncated", "MACRO: no command code");
      const list = readStrArray(d, "MACRO", 1);
      if (list.length % 2 !== 0) throw new ProtocolError("malformed", "MACRO: name without value");
      const macros: [string, string][] = [];
      for (let i = 0; i < list.length; i += 2) macros.push([list[i]!, list[i + 1]!]);
      return { type: "macro", stage: d[0]!, macros };
    }
    case Cmd.CONNECT: {
      const host = readStr(d, 0, "CONNECT hostname");
      if (host.next >= d.length) throw new ProtocolError("truncated", "CONNECT: no family");
      const fam = String.fromCharCode(d[host.next]!);
      const hostname = host.value.toString("utf8");
      if (fam === "U") return { type: "connect", hostname, family: "U", port: null, address: null };
      if (fam !== "L" && fam !== "4" && fam !== "6") {
        throw new ProtocolError("malformed", `CONNECT: unknown family ${JSON.stringify(fam)}`);
      }
      const p = host.next + 1;
      if (d.length < p + 2) throw new ProtocolError("truncated", "CONNECT: no port");
      const addr = readStr(d, p + 2, "CONNECT address");
      let address = addr.value.toString("utf8");
      // Sendmail sends IPv6 addresses in its address-literal form.
      if (fam === "6" && address.toLowerCase().startsWith("ipv6:")) address = address.slice(5);
      return { type: "connect", hostname, family: fam, port: d.readUInt16BE(p), address };
    }
    case Cmd.HELO:
      return { type: "helo", name: readStr(d, 0, "HELO").value.toString("utf8") };
    case Cmd.MAIL:
    case Cmd.RCPT: {
      const what = f.cmd === Cmd.MAIL ? "MAIL" : "RCPT";
      const args = readStrArray(d, what);
      if (args.length === 0) throw new ProtocolError("truncated", `${what}: no address`);
      return { type: f.cmd === Cmd.MAIL ? "mail" : "rcpt", args };
    }
    case Cmd.DATA:
      expectEmpty(d, "DATA");
      return { type: "data" };
    case Cmd.HEADER: {
      const name = readStr(d, 0, "HEADER name");
      const value = readStr(d, name.next, "HEADER value");
      if (name.value.length === 0) throw new ProtocolError("malformed", "HEADER: empty name");
      return { type: "header", name: name.value.toString("latin1"), value: value.value };
    }
    case Cmd.EOH:
      expectEmpty(d, "EOH");
      return { type: "eoh" };
    case Cmd.BODY:
      return { type: "body", chunk: d };
    case Cmd.BODYEOB:
      return { type: "eom", chunk: d };
    case Cmd.ABORT:
      return { type: "abort" };
    case Cmd.QUIT:
      return { type: "quit" };
    case Cmd.QUIT_NC:
      return { type: "quit_nc" };
    case Cmd.UNKNOWN:
      return { type: "unknown", line: readStr(d, 0, "UNKNOWN").value.toString("utf8") };
    default:
      throw new ProtocolError(
        "unknown-command",
        `unknown command byte 0x${f.cmd.toString(16).padStart(2, "0")}`,
      );
  }
}
