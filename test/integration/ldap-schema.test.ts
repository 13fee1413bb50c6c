// The shipped schema in real OpenLDAP: the slapd.conf files pass slaptest, and a slapd loaded
// with the cn=config files enforces them (syntax, single values, the auxiliary class).
// Lookups through the schema are covered in ldap-directory.test.ts.
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceDir } from "../helpers/spam-services.ts";
import {
  ADMIN_DN,
  ADMIN_PW,
  SUFFIX,
  slapdMissing,
  startSlapd,
  userLdif,
  type Slapd,
} from "../helpers/slapd.ts";

const run = promisify(execFile);
const SCHEMA = resolve(import.meta.dirname, "../../schema");
const missing = slapdMissing();
if (missing) console.warn(`skipping LDAP schema tests: ${missing}`);

describe.skipIf(missing !== null)("shipped OpenLDAP schema", () => {
  let slapd: Slapd;
  beforeAll(async () => {
    slapd = await startSlapd();
  });
  afterAll(async () => {
    await slapd?.stop();
  });

  it("the .schema files pass slaptest in slapd.conf style", async () => {
    const dir = serviceDir("slaptest");
    mkdirSync(join(dir, "db"));
    const conf = join(dir, "slapd.conf");
    writeFileSync(
      conf,
      [
        "include /etc/ldap/schema/core.schema",
        "include /etc/ldap/schema/cosine.schema",
        "include /etc/ldap/schema/inetorgperson.schema",
        `include ${SCHEMA}/mail-alternate-address.schema`,
        `include ${SCHEMA}/sluice.schema`,
        "modulepath /usr/lib/ldap",
        "moduleload back_mdb",
        "database mdb",
        `suffix "${SUFFIX}"`,
        `directory ${dir}/db`,
        "",
      ].join("\n"),
    );
    const r = await run("/usr/sbin/slaptest", ["-f", conf, "-u"]);
    expect(r.stderr + r.stdout).toMatch(/config file testing succeeded/);
    // And a broken copy fails, so the check above means something.
    writeFileSync(
      conf.replace("slapd.conf", "bad.schema"),
      "attributetype ( 2.25.1 NAME 'x' SYNTAX nope )\n",
    );
    writeFileSync(conf, `include ${dir}/bad.schema\n`);
    await expect(run("/usr/sbin/slaptest", ["-f", conf, "-u"])).rejects.toThrow();
  });

  const add = async (ldif: string): Promise<number> => {
    const file = join(slapd.dir, `t-${Math.random().toString(36).slice(2)}.ldif`);
    writeFileSync(file, ldif);
    try {
      await run("/usr/bin/ldapadd", ["-x", "-H", slapd.url, "-D", ADMIN_DN, "-w", ADMIN_PW, "-f", file]);
      return 0;
    } catch (err) {
      return (err as { code: number }).code;
    }
  };

  it("accepts a user with the auxiliary class and its attributes", async () => {
    expect(
      await add(
        userLdif({
          uid: "ok",
          mail: "ok@example.com",
          extra: {
            sluiceSpamFilter: "TRUE",
            sluiceSpamTagThreshold: "4.5",
            sluiceWhitelist: ["a.example", "*@b.example"],
            sluiceLanguage: "ja",
          },
        }),
      ),
    ).toBe(0);
  });

  it("refuses Sluice attributes without sluiceUser (65), a non-boolean flag (21), two flags (19)", async () => {
    const base = (uid: string) => userLdif({ uid, mail: `${uid}@example.com` });
    expect(
      await add(base("nocls").replace("objectClass: sluiceUser\n", "") + "sluiceSpamFilter: TRUE\n"),
    ).toBe(65);
    expect(await add(base("badbool") + "sluiceSpamFilter: yes\n")).toBe(21);
    expect(await add(base("twoflags") + "sluiceSpamFilter: TRUE\nsluiceSpamFilter: FALSE\n")).toBe(19);
  });
});
