import { describe, it, expect } from "vitest";
import { parseConfig } from "./load.ts";
import { ConfigError } from "./errors.ts";
import { FilterRegistry } from "../pipeline/registry.ts";
import { builtinFilters } from "../filters/index.ts";
import { QUICKSTART_YAML } from "./quickstart.ts";

const registry = new FilterRegistry(builtinFilters());

function issues(text: string) {
  try {
    parseConfig(text, "sluice.yaml", registry);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
}

describe("configuration loading", () => {
  it("accepts the quick-start configuration", () => {
    const c = parseConfig(QUICKSTART_YAML, "q", registry);
    expect(c.tenants[0]!.users.map((u) => u.spam_filter)).toEqual([true, false]);
  });

  it("names file, line and path of a bad domain", () => {
    const text =
      "tenants:\n  - id: a\n    domains: [a.example]\n  - id: b\n    domains:\n      - ok.example\n      - not a domain\n";
    expect(issues(text)).toEqual([
      { file: "sluice.yaml", line: 7, path: "tenants[1].domains[1]", message: "not a domain name" },
    ]);
  });

  it("refuses unknown settings at their own line", () => {
    expect(
      issues(
        "policy:\n  thresholds: { tag: 5 }\nbogus: 1\ntenants:\n  - id: a\n    domains: [a.example]\n    colour: red\n",
      ),
    ).toEqual([
      { file: "sluice.yaml", line: 3, path: "bogus", message: "unknown setting" },
      { file: "sluice.yaml", line: 7, path: "tenants[0].colour", message: "unknown setting" },
    ]);
  });

  it("reports filter problems with their paths", () => {
    const found = issues("policy:\n  filters:\n    nosuch: {}\n    size: { options: { max_bytes: -1 } }\n");
    expect(found).toContainEqual({
      file: "sluice.yaml",
      line: 3,
      path: "policy.filters.nosuch",
      message: 'unknown filter "nosuch"',
    });
    expect(found.find((i) => i.path === "policy.filters.size.options")?.message).toMatch(/max_bytes/);
  });

  it("refuses a domain owned twice, a user outside its tenant and an over-long list", () => {
    const list = JSON.stringify(Array.from({ length: 21 }, (_, i) => `s${i}.example`));
    const text = `tenants:
  - id: a
    domains: [a.example]
    users:
      - { address: u@b.example }
      - { address: v@a.example, blacklist: ${list} }
  - id: b
    domains: [a.example]
`;
    const msgs = issues(text).map((i) => `${i.line} ${i.path}: ${i.message}`);
    expect(msgs).toContain("8 tenants[1].domains[0]: domain a.example already belongs to tenant a");
    expect(msgs).toContain("5 tenants[0].users[0].address: u@b.example is not in a domain of tenant a");
    expect(msgs).toContain("6 tenants[0].users[1].blacklist: at most 20 entries (has 21)");
  });

  it("refuses an alias without its anchor, and alias bombs, as config errors (fuzz regression)", () => {
    expect(issues("*!")[0]!.message).toMatch(/alias/i);
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (let i = 0; i < 8; i++)
      bomb.push(`${"bcdefghi"[i]}: &${"bcdefghi"[i]} [${Array(9).fill(`*${"abcdefgh"[i]}`).join(", ")}]`);
    expect(issues(bomb.join("\n"))[0]!.message).toMatch(/alias/i);
  });

  it("reports YAML syntax errors with their line", () => {
    const found = issues("tenants:\n  - id: a\n   domains: [x\n");
    expect(found[0]!.line).toBeGreaterThan(0);
  });
});
