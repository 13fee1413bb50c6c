// Configuration that explains itself: the example file is valid and covers every section, the
// committed JSON Schema is the generated one, and `config explain` names the layer in force.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../config/load.ts";
import { configJsonSchemaText, SECTION_HELP } from "../config/json-schema.ts";
import { QUICKSTART_YAML } from "../config/quickstart.ts";
import { builtinFilters } from "../filters/index.ts";
import { FilterRegistry } from "../pipeline/registry.ts";
import { explainConfig, formatExplanation, parsePath } from "./config-explain.ts";

const registry = new FilterRegistry(builtinFilters());
const EXAMPLE = readFileSync("examples/sluice.yaml", "utf8");

const LAYERED = `
node: { role: mx }
policy:
  thresholds: { tag: 5, quarantine: 10 }
  filters:
    virus: { options: { attachments: { max_inspect_bytes: 1000 }, chunk_bytes: 4096 } }
roles:
  mx:
    policy:
      thresholds: { quarantine: 12 }
tenants:
  - id: acme
    domains: [acme.example]
    policy:
      thresholds: { quarantine: 7 }
      filters:
        virus: { options: { attachments: { enabled: false } } }
  - id: other
    domains: [other.example]
`;

describe("examples/sluice.yaml and the JSON Schema", () => {
  it("the example is a valid configuration with every top-level section", () => {
    expect(() => parseConfig(EXAMPLE, "examples/sluice.yaml", registry)).not.toThrow();
    for (const key of Object.keys(SECTION_HELP)) {
      expect(EXAMPLE, key).toMatch(new RegExp(`^${key}:`, "m"));
      // …and a comment line naming the section above it.
      expect(EXAMPLE, key).toMatch(new RegExp(`^# ---- ${key}: `, "m"));
    }
  });

  it("schema/sluice-config.schema.json is the generated schema (run: sluice config schema --out …)", () => {
    const committed = readFileSync("schema/sluice-config.schema.json", "utf8");
    expect(committed).toBe(configJsonSchemaText());
    const s = JSON.parse(committed);
    expect(s.properties.smtp.properties.limits.properties.max_recipients).toMatchObject({
      type: "integer",
      default: 100,
    });
    expect(s.properties.node.description).toBe(SECTION_HELP.node);
    expect(s.additionalProperties).toBe(false);
  });
});

describe("sluice config explain", () => {
  it("parses dotted paths with indices", () => {
    expect(parsePath("tenants[0].users[2].address")).toEqual(["tenants", 0, "users", 2, "address"]);
    expect(parsePath("tenants[acme].policy")).toEqual(["tenants", "acme", "policy"]);
  });

  it("a value from the file names its line; an absent one is the default", async () => {
    const set = await explainConfig(EXAMPLE, "sluice.yaml", "smtp.limits.max_recipients", registry);
    expect(set).toMatchObject({ value: 100, source: expect.stringMatching(/^sluice\.yaml:\d+$/) });
    const line = Number(set.source.split(":")[1]);
    expect(EXAMPLE.split("\n")[line - 1]).toContain("max_recipients: 100");
    const dflt = await explainConfig(LAYERED, "l.yaml", "smtp.limits.max_recipients", registry);
    expect(dflt).toMatchObject({ value: 100, source: "default" });
    const quick = await explainConfig(QUICKSTART_YAML, "(embedded quick-start)", "delivery", registry);
    expect(quick.source).toBe("(embedded quick-start):6");
  });

  it("policy: the last layer that sets a value wins, per tenant", async () => {
    const acme = await explainConfig(LAYERED, "l.yaml", "policy.thresholds.quarantine", registry, {
      tenant: "acme",
    });
    expect(acme.value).toBe(7);
    expect(acme.source).toBe("tenants[0].policy at l.yaml:15");
    expect(acme.layers!.map((l) => [l.layer, l.value])).toEqual([
      ["policy", 10],
      ["roles.mx.policy", 12],
      ["tenants[0].policy", 7],
    ]);
    const other = await explainConfig(LAYERED, "l.yaml", "policy.thresholds.quarantine", registry, {
      tenant: "other",
    });
    expect(other).toMatchObject({ value: 12, source: "roles.mx.policy at l.yaml:10" });
    // The same question asked through the tenant's own path.
    const viaPath = await explainConfig(
      LAYERED,
      "l.yaml",
      "tenants[acme].policy.thresholds.quarantine",
      registry,
    );
    expect(viaPath.value).toBe(7);
    expect(formatExplanation(acme)).toContain("tenants[0].policy  l.yaml:15  7");
  });

  it("filter options merge shallowly: a tenant's attachments replace the global ones whole", async () => {
    const acme = await explainConfig(
      LAYERED,
      "l.yaml",
      "policy.filters.virus.options.attachments.max_inspect_bytes",
      registry,
      { tenant: "acme" },
    );
    // acme set attachments: { enabled: false } — the global max_inspect_bytes is gone, the default is back.
    expect(acme.value).toBe(30 * 1024 * 1024);
    expect(acme.source).toBe("tenants[0].policy at l.yaml:17");
    const other = await explainConfig(
      LAYERED,
      "l.yaml",
      "policy.filters.virus.options.attachments.max_inspect_bytes",
      registry,
      { tenant: "other" },
    );
    expect(other).toMatchObject({ value: 1000, source: "policy at l.yaml:6" });
    const depth = await explainConfig(
      LAYERED,
      "l.yaml",
      "policy.filters.virus.options.chunk_bytes",
      registry,
    );
    expect(depth.value).toBe(4096);
  });

  it("refuses unknown settings and tenants; explains runtime-derived defaults", async () => {
    await expect(explainConfig(LAYERED, "l.yaml", "smtp.nope", registry)).rejects.toThrow(
      'no setting named "smtp.nope"',
    );
    await expect(explainConfig(LAYERED, "l.yaml", "tenants[nobody].delivery", registry)).rejects.toThrow(
      'no tenant "nobody"',
    );
    // Filter names are open keys in the schema: a misspelt one is refused, not "(not set)".
    await expect(explainConfig(LAYERED, "l.yaml", "policy.filters.spam", registry)).rejects.toThrow(
      /no filter named "spam" \(filters: .*spam-classifier/,
    );
    await expect(
      explainConfig(LAYERED, "l.yaml", "tenants[acme].policy.filters.spam.enabled", registry),
    ).rejects.toThrow('no filter named "spam"');
    const known = await explainConfig(LAYERED, "l.yaml", "policy.filters.spam-classifier.enabled", registry);
    expect(known.value).toBe(true);
    const name = await explainConfig(LAYERED, "l.yaml", "node.name", registry);
    expect(name.source).toBe("not set");
    expect(name.note).toContain("host name");
    // The answer names the configuration it read (the embedded quick start unless --config).
    expect(formatExplanation(name)).toContain("  configuration: l.yaml\n");
    const quick = await explainConfig(QUICKSTART_YAML, "(embedded quick-start)", "node.name", registry);
    expect(formatExplanation(quick)).toContain("configuration: (embedded quick-start) — --config FILE");
  });
});
