// Loads the OpenSPF RFC 7208 suite (YAML scenarios with zone data) into cases a test can run
// against the fake zone. For tests only; the suite's format is described in its SOURCE.txt.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import type { Zone, ZoneValue } from "../dns.fake.ts";
import { testdataDir } from "./testdata.ts";

export interface SpfCase {
  scenario: string;
  name: string;
  helo: string;
  host: string;
  mailfrom: string;
  expected: string[];
  zone: Zone;
}

type RawRecord = Record<string, unknown> | string;

/**
 * The suite's drivers copy type-SPF records to TXT unless the name has TXT records of its own
 * (that is how "Selecting records" checks that SPF-type records are ignored).
 */
function toZone(zonedata: Record<string, RawRecord[]>): Zone {
  const zone: Zone = {};
  for (const [name, recs] of Object.entries(zonedata ?? {})) {
    const out: ZoneValue[] = [];
    const hasTxt = recs.some((r) => typeof r === "object" && "TXT" in r);
    for (const r of recs) {
      if (r === "TIMEOUT") {
        out.push({ type: "TIMEOUT" });
        continue;
      }
      if (typeof r !== "object") continue;
      const [type, value] = Object.entries(r)[0]!;
      if (type === "SPF" && hasTxt) continue;
      // "TXT: NONE" declares that the name has no TXT answer (so TIMEOUT applies to it).
      if (type === "TXT" && value === "NONE") continue;
      if (type === "SPF" || type === "TXT")
        out.push({ type: "TXT", value: Array.isArray(value) ? value.map(String) : String(value) });
      else if (type === "MX") {
        const [priority, exchange] = value as [number, string];
        out.push({ type: "MX", value: { priority, exchange } });
      } else if (type === "A" || type === "AAAA" || type === "PTR" || type === "CNAME")
        out.push({ type, value: String(value) });
    }
    zone[name] = out;
  }
  return zone;
}

export function loadSpfSuite(file = "rfc7208-tests.yml"): SpfCase[] {
  const text = readFileSync(join(testdataDir("spf-openspf"), file), "utf8");
  const cases: SpfCase[] = [];
  for (const doc of parseAllDocuments(text)) {
    if ("errors" in doc && doc.errors.length) throw new Error(`${file}: ${doc.errors[0]!.message}`);
    const s = doc.toJS() as {
      description: string;
      tests: Record<string, { helo: string; host: string; mailfrom: string; result: string | string[] }>;
      zonedata: Record<string, RawRecord[]>;
    } | null;
    if (!s?.tests) continue;
    const zone = toZone(s.zonedata);
    for (const [name, t] of Object.entries(s.tests)) {
      cases.push({
        scenario: s.description,
        name,
        helo: String(t.helo ?? ""),
        host: String(t.host),
        mailfrom: String(t.mailfrom ?? ""),
        expected: ([] as string[]).concat(t.result),
        zone,
      });
    }
  }
  return cases;
}
