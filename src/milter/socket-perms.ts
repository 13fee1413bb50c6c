// Permissions of the milter's unix sockets (`milter.unix_socket`): set right after binding, so
// the MTA's user can connect (Postfix runs its smtpd as "postfix": mode 0660 and group postfix).
// Until then the socket has the process's umask, which is never wider.
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync } from "node:fs";

export interface UnixSocketPerms {
  /** Octal, e.g. "0660". */
  mode?: string;
  owner?: string;
  group?: string;
}

function getentId(db: "passwd" | "group", name: string): number {
  if (/^\d+$/.test(name)) return Number(name);
  let line = "";
  try {
    line = execFileSync("getent", [db, name], { encoding: "utf8" }).trim();
  } catch {
    // fall through: not found
  }
  if (!line) throw new Error(`milter.unix_socket: no such ${db === "passwd" ? "user" : "group"} "${name}"`);
  return Number(line.split(":")[2]);
}

export function applySocketPerms(path: string, p: UnixSocketPerms): void {
  if (p.owner !== undefined || p.group !== undefined) {
    // -1 leaves that id as it is; a non-root node may still give the socket to one of its groups.
    chownSync(path, p.owner ? getentId("passwd", p.owner) : -1, p.group ? getentId("group", p.group) : -1);
  }
  if (p.mode !== undefined) chmodSync(path, parseInt(p.mode, 8));
}
