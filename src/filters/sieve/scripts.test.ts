// Script loading: included files are part of the compiled set (a change to one recompiles), the
// enotify allow-list's domain patterns, and checks of editor text with the configured locations.
import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { checkSieveSource, loadScript, notifyAllowed, SieveScriptError } from "./scripts.ts";

const dir = mkdtempSync(join(tmpdir(), "sluice-sieve-scripts-"));
const globalDir = join(dir, "global");
mkdirSync(globalDir);

describe("loadScript with includes", () => {
  it("recompiles when an included file changes, and reports its errors by file", () => {
    const main = join(dir, "main.sieve");
    const shared = join(globalDir, "shared.sieve");
    writeFileSync(main, 'require "include";\ninclude :global "shared";\n');
    writeFileSync(shared, "keep;\n");
    const first = loadScript(main, { globalDir });
    expect(loadScript(main, { globalDir })).toBe(first);
    writeFileSync(shared, "keep\n");
    utimesSync(shared, new Date(), new Date(Date.now() + 5000));
    expect(() => loadScript(main, { globalDir })).toThrow(SieveScriptError);
    expect(() => loadScript(main, { globalDir })).toThrow(`${shared}:2:1: expected ";" after command "keep"`);
  });

  it("resolves :personal next to the script unless personal_dir is set", () => {
    const main = join(dir, "personal.sieve");
    writeFileSync(main, 'require ["include", "fileinto"];\ninclude :personal "mine";\n');
    writeFileSync(join(dir, "mine.sieve"), 'require "fileinto"; fileinto "here";');
    expect(loadScript(main).units.size).toBe(1);
    expect(() => loadScript(main, { personalDir: globalDir })).toThrow(
      /included personal script "mine" does not exist/,
    );
  });
});

describe("notifyAllowed", () => {
  it("takes exact domains and *.domain for a domain and its subdomains", () => {
    const ok = notifyAllowed(["corp.example", "*.partner.example"]);
    expect(ok("a@corp.example")).toBe(true);
    expect(ok("a@CORP.example")).toBe(true);
    expect(ok("a@sub.corp.example")).toBe(false);
    expect(ok("a@partner.example")).toBe(true);
    expect(ok("a@x.partner.example")).toBe(true);
    expect(ok("a@evilpartner.example")).toBe(false);
    expect(notifyAllowed(undefined)("a@corp.example")).toBe(false);
  });
});

describe("checkSieveSource", () => {
  it("returns errors and warnings with positions, includes resolved from the options", () => {
    writeFileSync(join(globalDir, "ok.sieve"), "keep;\n");
    expect(
      checkSieveSource('require "include";\ninclude :global "ok";\n', { global_dir: globalDir }),
    ).toEqual({
      ok: true,
      errors: [],
      warnings: [],
    });
    const r = checkSieveSource('require "include";\ninclude :global "ok";\nif exists "a b" { keep }\n');
    expect(r.ok).toBe(false);
    expect(r.errors.map((e) => `${e.line}:${e.column}`)).toEqual(["2:17", "3:24"]);
    expect(r.warnings.map((w) => `${w.line}:${w.column}: ${w.message}`)).toEqual([
      '3:11: invalid header name "a b": this test never matches it',
    ]);
  });
});
