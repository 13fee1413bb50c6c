// Packaging: the systemd unit is hardened and passes `systemd-analyze verify` (when systemd is
// installed); the container image runs as non-root with a health check and a valid baked-in
// configuration; `npm pack` ships what an install needs and no tests. Building the image needs a
// container engine and a registry (docs/install.md, "Container image": a manual check).
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.ts";
import { builtinFilters } from "../../src/filters/index.ts";
import { FilterRegistry } from "../../src/pipeline/registry.ts";
import { ROOT } from "../helpers/cli.ts";

const sh = promisify(execFile);
const UNIT = readFileSync(join(ROOT, "packaging", "sluice.service"), "utf8");
const CONTAINERFILE = readFileSync(join(ROOT, "Containerfile"), "utf8");
const directive = (name: string) => [...UNIT.matchAll(new RegExp(`^${name}=(.*)$`, "gm"))].map((m) => m[1]!);
const analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].find(existsSync);
if (!analyze) console.warn("skipping systemd-analyze verify: package systemd is not installed");

describe("systemd unit", () => {
  it("is hardened: own user, read-only system, one capability, reload by SIGHUP", () => {
    expect(directive("User").concat(directive("DynamicUser"))).not.toEqual([]);
    expect(directive("ProtectSystem")).toEqual(["strict"]);
    expect(directive("ReadWritePaths")[0]).toContain("/var/lib/sluice");
    expect(directive("CapabilityBoundingSet")).toEqual(["CAP_NET_BIND_SERVICE"]);
    expect(directive("AmbientCapabilities")).toEqual(["CAP_NET_BIND_SERVICE"]);
    expect(directive("NoNewPrivileges")).toEqual(["yes"]);
    expect(["exec", "notify"]).toContain(directive("Type")[0]);
    expect(directive("ExecReload")).toContain("/bin/kill -HUP $MAINPID");
    // The paths it runs exist in an installed tree (here: the repository).
    for (const p of directive("ExecStart")[0]!
      .split(" ")
      .filter((w) => w.startsWith("/usr/lib/sluice/"))) {
      expect(existsSync(p.replace("/usr/lib/sluice", ROOT)), p).toBe(true);
    }
  });

  it.skipIf(!analyze)(
    "passes systemd-analyze verify and scores well in systemd-analyze security",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "sluice-unit-"));
      try {
        const unit = join(dir, "sluice.service");
        writeFileSync(unit, UNIT.replaceAll("/usr/lib/sluice", ROOT));
        // --man=no: the man page is installed with the package, not on this machine.
        const v = await sh(analyze!, ["verify", "--man=no", unit]);
        expect(v.stderr.trim()).toBe("");
        const s = await sh(analyze!, ["security", "--offline=yes", "--threshold=30", unit]);
        const level = /Overall exposure level for sluice\.service: ([\d.]+)/.exec(s.stdout + s.stderr);
        expect(Number(level?.[1])).toBeLessThanOrEqual(3);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe("container image", () => {
  it("runs as a non-root user with a health check, on the ports it exposes, with a valid configuration", () => {
    const users = [...CONTAINERFILE.matchAll(/^USER (\S+)$/gm)].map((m) => m[1]);
    expect(users.at(-1)).toBe("sluice");
    expect(CONTAINERFILE).toMatch(/^HEALTHCHECK .*\n\s+CMD .*\/livez/m);
    const exposed = /^EXPOSE (.*)$/m.exec(CONTAINERFILE)![1]!.split(" ").map(Number);
    const baked = readFileSync(join(ROOT, "packaging", "container.yaml"), "utf8");
    const config = parseConfig(baked, "packaging/container.yaml", new FilterRegistry(builtinFilters()));
    const ports = [
      config.smtp.listeners.inbound.listen,
      config.smtp.listeners.submission.listen,
      config.smtp.listeners.submissions.listen,
      config.web.listen,
      config.milter.listen[0]!,
    ].map((l) => Number(l.split(":").pop()));
    expect(exposed.sort()).toEqual(ports.sort());
    expect(config.store).toBe("sqlite:/var/lib/sluice/sluice.db");
    expect(CONTAINERFILE).toContain('VOLUME ["/var/lib/sluice"]');
  });
});

describe("npm pack", () => {
  it("ships the command, the sources, the built console and the docs, but no tests", () => {
    const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    const files = (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    for (const f of [
      "bin/sluice.js",
      "src/cli/main.ts",
      "src/runtime.ts",
      "models/spam-default.model.gz",
      "examples/sluice.yaml",
      "schema/sluice-config.schema.json",
      "packaging/sluice.service",
      "docs/install.md",
      "web/index.html",
      "package.json",
      "README.md",
    ]) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => f.endsWith(".test.ts") || f.startsWith("test/"))).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    expect(pkg.bin.sluice).toBe("bin/sluice.js");
    expect(pkg.scripts.prepack).toContain("man --out man");
  });
});
