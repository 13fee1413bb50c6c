// Starts a throwaway OpenLDAP slapd (cn=config in a temp dir, mdb database, the shipped Sluice
// schema) on free loopback ports, plain + ldaps with a self-signed certificate, for integration
// tests and the benchmark. Not a production setup: root runs it, passwords are fixed.
import { execFile, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { freePort, missingPackage, serviceDir, start, stop, waitFor } from "./spam-services.ts";

const run = promisify(execFile);
export const SLAPD_BIN = "/usr/sbin/slapd";
const SCHEMA_DIR = resolve(import.meta.dirname, "../../schema");

export const SUFFIX = "dc=example,dc=com";
export const ADMIN_DN = `cn=admin,${SUFFIX}`;
export const ADMIN_PW = "admin-secret";
/** The read-only service account Sluice binds as. */
export const SERVICE_DN = `cn=sluice,ou=services,${SUFFIX}`;
export const SERVICE_PW = "service-secret";

export interface Slapd {
  url: string;
  ldapsUrl: string;
  /** PEM of the self-signed server certificate (trust it as the CA). */
  caFile: string;
  dir: string;
  pid(): number;
  ldapadd(ldif: string): Promise<void>;
  ldapmodify(ldif: string): Promise<void>;
  /** ldapsearch -LLL as the admin; returns the LDIF text. */
  ldapsearch(base: string, filter: string, attrs?: string[]): Promise<string>;
  /** SIGSTOP / SIGCONT: the port stays open but nothing answers. */
  pause(): Promise<void>;
  resume(): void;
  stop(): Promise<void>;
  /** Start again on the same ports with the same data. */
  restart(): Promise<void>;
}

export function slapdMissing(): string | null {
  return missingPackage("slapd and ldap-utils", [SLAPD_BIN, "/usr/bin/ldapadd", "/usr/bin/ldapsearch"]);
}

async function hashPassword(pw: string): Promise<string> {
  return (await run("/usr/sbin/slappasswd", ["-s", pw])).stdout.trim();
}

function configLdif(dir: string, rootPwHash: string, tls: { cert: string; key: string }): string {
  return `dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: ${dir}/slapd.pid
olcTLSCertificateFile: ${tls.cert}
olcTLSCertificateKeyFile: ${tls.key}

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif
include: file://${SCHEMA_DIR}/mail-alternate-address.ldif
include: file://${SCHEMA_DIR}/sluice.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcRootDN: cn=admin,cn=config
olcRootPW: ${rootPwHash}

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: ${SUFFIX}
olcRootDN: ${ADMIN_DN}
olcRootPW: ${rootPwHash}
olcDbDirectory: ${dir}/db
olcDbMaxSize: 104857600
olcDbIndex: objectClass eq
olcDbIndex: mail eq
olcDbIndex: mailAlternateAddress eq
olcAccess: to attrs=userPassword by self write by anonymous auth by * none
olcAccess: to * by * read
`;
}

const BASE_DATA = `dn: ${SUFFIX}
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,${SUFFIX}
objectClass: organizationalUnit
ou: people

dn: ou=services,${SUFFIX}
objectClass: organizationalUnit
ou: services
`;

export async function startSlapd(): Promise<Slapd> {
  const dir = serviceDir("slapd");
  mkdirSync(join(dir, "db"));
  mkdirSync(join(dir, "slapd.d"));
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=IP:127.0.0.1,DNS:localhost",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-keyout",
    key,
    "-out",
    cert,
  ]);
  const hash = await hashPassword(ADMIN_PW);
  writeFileSync(join(dir, "config.ldif"), configLdif(dir, hash, { cert, key }));
  await run("/usr/sbin/slapadd", ["-n0", "-F", join(dir, "slapd.d"), "-l", join(dir, "config.ldif")]);
  const [port, tlsPort] = [await freePort(), await freePort()];
  const url = `ldap://127.0.0.1:${port}`;
  const ldapsUrl = `ldaps://127.0.0.1:${tlsPort}`;
  const log = join(dir, "slapd.log");
  let child: ChildProcess;

  const launch = async () => {
    child = start(SLAPD_BIN, ["-h", `${url}/ ${ldapsUrl}/`, "-F", join(dir, "slapd.d"), "-d", "256"], log);
    try {
      await waitFor(
        "slapd",
        10_000,
        async () => {
          await run("/usr/bin/ldapsearch", ["-x", "-H", url, "-b", "", "-s", "base", "-o", "nettimeout=1"]);
          return true;
        },
        child,
      );
    } catch (err) {
      await stop(child);
      const text = existsSync(log) ? readFileSync(log, "utf8") : "";
      throw new Error(`${(err as Error).message}; log:\n${text}`, { cause: err });
    }
  };
  await launch();

  const admin = ["-x", "-H", url, "-D", ADMIN_DN, "-w", ADMIN_PW];
  const tool = async (bin: string, ldif: string) => {
    const file = join(dir, `in-${Date.now()}-${Math.random().toString(36).slice(2)}.ldif`);
    writeFileSync(file, ldif);
    await run(bin, [...admin, "-f", file]);
  };
  await tool("/usr/bin/ldapadd", BASE_DATA);
  await tool(
    "/usr/bin/ldapadd",
    `dn: ${SERVICE_DN}\nobjectClass: simpleSecurityObject\nobjectClass: organizationalRole\ncn: sluice\nuserPassword: ${await hashPassword(SERVICE_PW)}\n`,
  );

  return {
    url,
    ldapsUrl,
    caFile: cert,
    dir,
    pid: () => child.pid!,
    ldapadd: (ldif) => tool("/usr/bin/ldapadd", ldif),
    ldapmodify: (ldif) => tool("/usr/bin/ldapmodify", ldif),
    async ldapsearch(base, filter, attrs = []) {
      const r = await run("/usr/bin/ldapsearch", [
        ...admin,
        "-LLL",
        "-o",
        "ldif-wrap=no",
        "-b",
        base,
        filter,
        ...attrs,
      ]);
      return r.stdout;
    },
    async pause() {
      process.kill(child.pid!, "SIGSTOP");
      // kill() returns before every thread has stopped: wait until /proc shows them all stopped.
      await waitFor("slapd to stop", 5000, async () => threadStates(child.pid!).every((st) => st === "T"));
    },
    resume: () => process.kill(child.pid!, "SIGCONT"),
    async stop() {
      // A paused slapd handles SIGTERM only once continued.
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, "SIGCONT");
      await stop(child);
    },
    restart: launch,
  };
}

function threadStates(pid: number): string[] {
  return readdirSync(`/proc/${pid}/task`).map((t) => {
    const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  });
}

/** LDIF for one test user (inetOrgPerson + sluiceUser + sluiceMailRecipient). */
export function userLdif(u: {
  uid: string;
  mail: string;
  aliases?: string[];
  password?: string;
  extra?: Record<string, string | string[]>;
}): string {
  const lines = [
    `dn: uid=${u.uid},ou=people,${SUFFIX}`,
    "objectClass: inetOrgPerson",
    "objectClass: sluiceUser",
    "objectClass: sluiceMailRecipient",
    `uid: ${u.uid}`,
    `cn: ${u.uid}`,
    `sn: ${u.uid}`,
    `mail: ${u.mail}`,
    ...(u.aliases ?? []).map((a) => `mailAlternateAddress: ${a}`),
  ];
  if (u.password) lines.push(`userPassword: ${u.password}`);
  for (const [k, v] of Object.entries(u.extra ?? {})) {
    for (const x of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${x}`);
  }
  return lines.join("\n") + "\n";
}
