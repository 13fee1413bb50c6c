// `sluice --version`, `--help` and the manual pages all come from the command definitions:
// every command has a page with a description, options and its synopsis.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { VERSION } from "../../src/cli/version.ts";
import { run } from "../helpers/cli.ts";

describe("sluice --version, --help and man", () => {
  it("prints the package version", async () => {
    const r = await run(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`sluice ${VERSION} (node ${process.version})\n`);
    expect(VERSION).toBe(JSON.parse(readFileSync("package.json", "utf8")).version);
  });

  it("writes one manual page per command, each with a name, synopsis and description", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sluice-man-"));
    try {
      const r = await run(["man", "--out", dir]);
      expect(r.code, r.stderr).toBe(0);
      const pages = readdirSync(dir).sort();
      for (const p of ["sluice.1", "sluice-serve.1", "sluice-config-check.1", "sluice-web-adduser.1"]) {
        expect(pages).toContain(p);
      }
      const main = readFileSync(join(dir, "sluice.1"), "utf8");
      for (const p of pages.filter((x) => x !== "sluice.1")) {
        const text = readFileSync(join(dir, p), "utf8");
        const name = p.replace(/\.1$/, "");
        // NAME line "sluice-x \- what it does" with a real description, and listed in sluice(1).
        expect(text, p).toMatch(new RegExp(`^${name.replace(/-/g, "\\-")} \\\\- \\S.{8,}`, "m"));
        expect(text, p).toContain(".SH SYNOPSIS");
        expect(main, p).toContain(`see ${name}(1)`);
      }
      expect(readFileSync(join(dir, "sluice-web-adduser.1"), "utf8")).toContain(
        "one of: operator, tenant_admin",
      );
      expect(main).toContain(".B HUP");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("--help works for a subcommand; man of an unknown command is a usage error", async () => {
    const help = await run(["quarantine", "release", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: sluice quarantine release [options] <id>");
    const bad = await run(["man", "no", "such"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('no command "no such"');
  });
});
