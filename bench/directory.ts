// Directory lookup benchmark (`node bench/directory.ts`): Sluice's LDAP directory cold (every
// lookup a search on the pool) and cached, against OpenLDAP's own `ldapsearch` on the same
// throwaway slapd in the same run. Needs slapd and ldap-utils. Not part of `npm test`.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { CachedDirectory } from "../src/policy/cached-directory.ts";
import { ldapDirectorySchema } from "../src/policy/ldap/config.ts";
import { LdapDirectory } from "../src/policy/ldap/ldap-directory.ts";
import {
  ADMIN_DN,
  ADMIN_PW,
  SERVICE_DN,
  SERVICE_PW,
  SUFFIX,
  slapdMissing,
  startSlapd,
  userLdif,
} from "../test/helpers/slapd.ts";

const run = promisify(execFile);
const USERS = Number(process.env.BENCH_USERS ?? 2000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);

const missing = slapdMissing();
if (missing) {
  console.error(`bench/directory: ${missing}`);
  process.exit(2);
}

function row(name: string, perSecond: number, note = ""): void {
  console.log(`${name.padEnd(44)} ${perSecond.toFixed(0).padStart(9)} lookups/s  ${note}`);
}

/** Runs `lookup(i)` with `concurrency` workers for SECONDS; returns lookups per second. */
async function rate(concurrency: number, lookup: (i: number) => Promise<unknown>): Promise<number> {
  let n = 0;
  const start = performance.now();
  const until = start + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) await lookup(n++);
    }),
  );
  return (n * 1000) / (performance.now() - start);
}

const slapd = await startSlapd();
try {
  const ldif: string[] = [];
  for (let i = 0; i < USERS; i++) {
    ldif.push(
      userLdif({
        uid: `u${i}`,
        mail: `u${i}@example.com`,
        aliases: [`alias${i}@example.com`],
        extra: { sluiceSpamFilter: i % 2 ? "TRUE" : "FALSE", sluiceBlacklist: [`x${i}@spam.example`] },
      }),
    );
  }
  await slapd.ldapadd(ldif.join("\n"));
  const address = (i: number) => (i % 2 ? `alias${i % USERS}@example.com` : `u${i % USERS}@example.com`);
  console.log(`slapd ${slapd.url}, ${USERS} users, ${SECONDS} s per row, Node ${process.version}`);

  for (const pool of [1, 4]) {
    const ldap = new LdapDirectory({
      config: ldapDirectorySchema.parse({
        type: "ldap",
        url: slapd.url,
        bind_dn: SERVICE_DN,
        bind_password: SERVICE_PW,
        pool_size: pool,
        tenants: { example: { base_dn: `ou=people,${SUFFIX}` } },
      }),
      tenants: [{ id: "example", domains: ["example.com"] }],
    });
    const check = await ldap.lookup("alias7@example.com");
    if (check?.address !== "u7@example.com") throw new Error("bench setup: alias lookup failed");
    row(`cold (LDAP search), pool ${pool}, 1 at a time`, await rate(1, (i) => ldap.lookup(address(i))));
    row(
      `cold (LDAP search), pool ${pool}, ${pool * 4} at a time`,
      await rate(pool * 4, (i) => ldap.lookup(address(i))),
    );
    if (pool === 4) {
      const cached = new CachedDirectory(ldap, {
        cache: { ttl_s: 3600, negative_ttl_s: 60, stale_s: 0, max_entries: 100_000, down_retry_s: 2 },
        onUnavailable: "tempfail",
        tenantOf: (a) => ldap.tenantOf(a),
      });
      for (let i = 0; i < USERS * 2; i++) await cached.lookup(address(i));
      row("cached (all addresses warm)", await rate(1, (i) => cached.lookup(address(i))), "in-process map");
    }
    await ldap.close();
  }

  // The same search with OpenLDAP's client: one process per lookup (how a script would do it) ...
  const args = (filter: string) => [
    "-x",
    "-LLL",
    "-H",
    slapd.url,
    "-D",
    SERVICE_DN,
    "-w",
    SERVICE_PW,
    "-b",
    `ou=people,${SUFFIX}`,
    filter,
    "mail",
    "mailAlternateAddress",
    "sluiceSpamFilter",
    "sluiceBlacklist",
  ];
  row(
    "ldapsearch, one process per lookup",
    await rate(1, (i) =>
      run("/usr/bin/ldapsearch", args(`(|(mail=${address(i)})(mailAlternateAddress=${address(i)}))`)),
    ),
    "spawn + connect + bind + search",
  );
  // ... and one search returning every user: the server's raw entry rate, the upper bound.
  const t0 = performance.now();
  // As the root DN: the service account is held to slapd's default size limit (500).
  const bulk = args("(objectClass=sluiceUser)").map((a) =>
    a === SERVICE_DN ? ADMIN_DN : a === SERVICE_PW ? ADMIN_PW : a,
  );
  const all = await run("/usr/bin/ldapsearch", bulk, { maxBuffer: 1 << 28 });
  const entries = all.stdout.split("\n\n").filter((e) => e.startsWith("dn:")).length;
  row("ldapsearch, one search returning all users", (entries * 1000) / (performance.now() - t0), "entries/s");
} finally {
  await slapd.stop();
}
