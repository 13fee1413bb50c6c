// Running as root only as long as binding needs it (Postfix's master does the same): a node
// started as root with --user binds its ports (25, 465, 587), hands the files it writes to that
// user, then drops to it for good. systemd needs none of this (packaging/sluice.service starts it
// as its own user with CAP_NET_BIND_SERVICE); a container or an init script does.
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, lstatSync, mkdirSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Logger } from "pino";
import type { Config } from "../config/schema.ts";
import { CliUsageError } from "./quarantine.ts";

export interface Account {
  name: string;
  uid: number;
  gid: number;
}

/** The account's uid and primary gid (getent: /etc/passwd, LDAP or whatever NSS says). */
export function lookupAccount(user: string, group?: string): Account {
  const passwd = getent("passwd", user);
  if (!passwd) throw new CliUsageError(`--user ${user}: no such user (create it: useradd --system ${user})`);
  const [, , uid, gid] = passwd.split(":");
  let g = Number(gid);
  if (group !== undefined) {
    const entry = getent("group", group);
    if (!entry) throw new CliUsageError(`--group ${group}: no such group`);
    g = Number(entry.split(":")[2]);
  }
  return { name: user, uid: Number(uid), gid: g };
}

function getent(db: "passwd" | "group", key: string): string | null {
  try {
    return execFileSync("getent", [db, key], { encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
}

/**
 * What the node writes, which must belong to the user it drops to. `create`: folders made now if
 * missing (the spool, the state folder, the SQLite folder, maildir roots) and given over, deep
 * for the node's own, the top only for maildir roots (a large tree is the operator's to chown
 * once). `existing`: the SQLite files and the self-signed certificate folder, if there.
 */
export function writablePaths(
  config: Config,
  varDir = "./var",
): { create: { path: string; deep: boolean }[]; existing: string[] } {
  const create = [
    { path: config.spool.dir, deep: true },
    { path: config.node.state_dir ?? dirname(config.spool.dir), deep: true },
  ];
  const existing = [join(varDir, "tls")];
  if (config.store.startsWith("sqlite:")) {
    const db = config.store.slice("sqlite:".length);
    create.push({ path: dirname(db), deep: false });
    existing.push(db, `${db}-wal`, `${db}-shm`, `${db}-journal`);
  }
  const targets = [
    config.delivery,
    ...config.tenants.flatMap((t) => [t.delivery ?? "", ...Object.values(t.routes)]),
  ];
  for (const target of targets) {
    if (target.startsWith("maildir:")) create.push({ path: target.slice("maildir:".length), deep: false });
  }
  return { create, existing };
}

function chownTree(path: string, a: Account, deep: boolean): void {
  if (!existsSync(path)) return;
  const st = lstatSync(path);
  if (st.isSymbolicLink()) return; // never follow a link out of our folders
  chownSync(path, a.uid, a.gid);
  if (deep && st.isDirectory()) for (const e of readdirSync(path)) chownTree(join(path, e), a, true);
}

/** Give the node's files to `a`, then become `a` (groups, gid, uid: in that order). */
export function dropPrivileges(a: Account, config: Config, log: Logger): void {
  const { create, existing } = writablePaths(config);
  for (const c of create) {
    mkdirSync(c.path, { recursive: true, mode: 0o750 });
    chownTree(c.path, a, c.deep);
  }
  for (const p of existing) chownTree(p, a, true);
  process.setgroups?.([a.gid]);
  process.setgid!(a.gid);
  process.setuid!(a.uid);
  if (process.getuid!() !== a.uid || process.geteuid!() !== a.uid)
    throw new Error(`could not become ${a.name}`);
  log.info({ user: a.name, uid: a.uid, gid: a.gid }, "privileges dropped after binding");
}

export function runningAsRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}
