// The PostgreSQL helper finds whichever major version is installed (newest first), not only 15.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findPostgresBin } from "./postgres.ts";

describe("findPostgresBin", () => {
  const root = mkdtempSync(join(tmpdir(), "pgroot-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const install = (version: string, withInitdb = true) => {
    mkdirSync(join(root, version, "bin"), { recursive: true });
    if (withInitdb) writeFileSync(join(root, version, "bin", "initdb"), "");
  };

  it("answers null without any version", () => {
    expect(findPostgresBin(join(root, "absent"))).toBeNull();
    expect(findPostgresBin(root)).toBeNull();
  });

  it("picks the newest major version that has initdb", () => {
    install("9.6");
    install("16");
    install("17");
    install("18", false); // only the client: no server binaries
    mkdirSync(join(root, "notes"));
    expect(findPostgresBin(root)).toBe(join(root, "17", "bin"));
  });
});
