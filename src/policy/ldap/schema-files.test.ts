// The shipped OpenLDAP schema comes twice (schema/*.schema for slapd.conf, schema/*.ldif for
// cn=config): this keeps the two definitions equal, the OIDs under our arc, and the attribute
// map's defaults defined. Whether slapd accepts them is test/integration/ldap-schema.test.ts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { attributeMapSchema } from "./config.ts";

const DIR = join(import.meta.dirname, "../../../schema");
const ARC = "2.25.169875315101438273157195932209803892944";

function fromSchema(file: string): string[] {
  const text = readFileSync(join(DIR, file), "utf8")
    .split("\n")
    .filter((l) => !l.startsWith("#"))
    .join("\n");
  return [...text.matchAll(/^(attributetype|objectclass)\s+(\([\s\S]*?\))\s*(?=^\S|$(?![\s\S]))/gm)].map(
    (m) => `${m[1] === "attributetype" ? "olcAttributeTypes" : "olcObjectClasses"}: ${norm(m[2]!)}`,
  );
}

function fromLdif(file: string): string[] {
  // LDIF folding: a line starting with one space continues the previous line.
  const unfolded = readFileSync(join(DIR, file), "utf8").replace(/\n /g, "");
  return unfolded
    .split("\n")
    .filter((l) => /^olc(AttributeTypes|ObjectClasses):/.test(l))
    .map((l) => {
      const i = l.indexOf(":");
      return `${l.slice(0, i)}: ${norm(l.slice(i + 1))}`;
    });
}

function norm(def: string): string {
  return def.replace(/\s+/g, " ").trim();
}

describe("shipped schema files", () => {
  for (const base of ["sluice", "mail-alternate-address"]) {
    it(`${base}.schema and ${base}.ldif define the same things`, () => {
      const a = fromSchema(`${base}.schema`);
      const declared = readFileSync(join(DIR, `${base}.schema`), "utf8").match(
        /^(attributetype|objectclass)\b/gm,
      );
      expect(a).toHaveLength(declared!.length);
      expect(fromLdif(`${base}.ldif`)).toEqual(a);
    });
  }

  it("puts every Sluice definition under our UUID arc, with unique OIDs and names", () => {
    const defs = fromSchema("sluice.schema");
    const oids = defs.map((d) => /\( (\S+)/.exec(d)![1]!);
    const names = defs.map((d) => /NAME '([^']+)'/.exec(d)![1]!);
    expect(oids.every((o) => o.startsWith(`${ARC}.`))).toBe(true);
    expect(new Set(oids).size).toBe(oids.length);
    expect(new Set(names).size).toBe(names.length);
    expect(names.every((n) => n.startsWith("sluice"))).toBe(true);
    expect(BigInt(ARC.slice(5)).toString(16).padStart(32, "0")).toBe("7fcccbad87ae4dab8e5e9612545f18d0");
  });

  it("defines every Sluice attribute the default attribute map reads", () => {
    const defined = fromSchema("sluice.schema").map((d) => /NAME '([^']+)'/.exec(d)![1]!);
    const wanted = Object.values(attributeMapSchema.parse({})).filter((a) => a.startsWith("sluice"));
    expect(wanted.length).toBe(11);
    for (const a of wanted) expect(defined).toContain(a);
  });
});
