// Loads the ValiMail ARC suite (validation and signing scenarios) for tests. The messages are
// LF-terminated in YAML and are converted to CRLF; the txt-records become a fake zone.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isMap, isScalar, parseAllDocuments } from "yaml";
import type { Zone } from "../dns.fake.ts";
import { testdataDir } from "./testdata.ts";

export interface ArcValidationCase {
  scenario: string;
  name: string;
  message: Buffer;
  /** Expected cv, lower-cased; "" where the suite leaves it empty. */
  cv: string;
  zone: Zone;
}

export interface ArcSigningCase {
  scenario: string;
  name: string;
  message: Buffer;
  domain: string;
  selector: string;
  privateKey: string;
  t: number;
  sigHeaders: string;
  srvId: string;
  AS: string;
  AMS: string;
  AAR: string;
  zone: Zone;
}

function crlf(text: string): Buffer {
  return Buffer.from(String(text ?? "").replace(/\r?\n/g, "\r\n"), "utf8");
}

function zoneOf(records: Record<string, string> | undefined): Zone {
  const zone: Zone = {};
  for (const [name, value] of Object.entries(records ?? {}))
    zone[name] = [{ type: "TXT", value: String(value) }];
  return zone;
}

/**
 * Scenarios with their tests as [name, test] pairs. The validation file repeats four test
 * names; like PyYAML (the suite's own loader) the last one wins, which gives the 171 cases.
 */
function docs(file: string): (Record<string, unknown> & { pairs: [string, Record<string, unknown>][] })[] {
  const text = readFileSync(join(testdataDir("arc-valimail"), file), "utf8");
  const out: (Record<string, unknown> & { pairs: [string, Record<string, unknown>][] })[] = [];
  for (const d of parseAllDocuments(text, { uniqueKeys: false })) {
    if ("errors" in d && d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
    const js = d.toJS() as Record<string, unknown> | null;
    if (!js) continue;
    const tests = isMap(d.contents) ? d.contents.get("tests", true) : null;
    const pairs: [string, Record<string, unknown>][] = [];
    if (isMap(tests)) {
      for (const item of tests.items) {
        const key = String(isScalar(item.key) ? item.key.value : item.key);
        const value = (item.value as { toJSON(): unknown }).toJSON() as Record<string, unknown>;
        const at = pairs.findIndex(([k]) => k === key);
        if (at !== -1) pairs.splice(at, 1);
        pairs.push([key, value]);
      }
    }
    out.push({ ...js, pairs });
  }
  return out;
}

export function loadArcValidation(): ArcValidationCase[] {
  const out: ArcValidationCase[] = [];
  for (const s of docs("arc-draft-validation-tests.yml")) {
    const zone = zoneOf(s["txt-records"] as Record<string, string>);
    for (const [name, raw] of s.pairs) {
      const t = raw as { message: string; cv: string | null };
      out.push({
        scenario: String(s.description).trim(),
        name,
        message: crlf(t.message),
        cv: String(t.cv ?? "").toLowerCase(),
        zone,
      });
    }
  }
  return out;
}

export function loadArcSigning(): ArcSigningCase[] {
  const out: ArcSigningCase[] = [];
  for (const s of docs("arc-draft-sign-tests.yml")) {
    const zone = zoneOf(s["txt-records"] as Record<string, string>);
    for (const [name, t] of s.pairs) {
      out.push({
        scenario: String(s.description).trim(),
        name,
        message: crlf(String(t.message)),
        domain: String(s.domain),
        selector: String(s.sel),
        privateKey: String(s.privatekey),
        t: Number(t.t),
        sigHeaders: String(t["sig-headers"]),
        srvId: String(t["srv-id"]),
        AS: String(t.AS ?? ""),
        AMS: String(t.AMS ?? ""),
        AAR: String(t.AAR ?? ""),
        zone,
      });
    }
  }
  return out;
}
