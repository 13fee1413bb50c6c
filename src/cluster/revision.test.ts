// Unit tests of what a revision may hold and how a node combines it with its own file.
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { FilterRegistry } from "../pipeline/registry.ts";
import { builtinFilters } from "../filters/index.ts";
import { ConfigError } from "../config/errors.ts";
import { parseConfig } from "../config/load.ts";
import { composeConfig, validateRevision } from "./revision.ts";
import { nodeIdentity } from "./identity.ts";

const registry = new FilterRegistry(builtinFilters());
const local = `
node: { name: n1, role: mx }
store: "sqlite::memory:"
delivery: smtp://127.0.0.1:10025
tenants:
  - { id: local, domains: [local.example] }
`;
const revision = `
policy: { thresholds: { tag: 4, quarantine: 9, reject: 20 } }
tenants:
  - id: example
    domains: [example.com]
`;

describe("cluster revisions", () => {
  it("accepts cluster sections and refuses node-local ones, naming each", () => {
    expect(validateRevision(revision, "r", registry).tenants[0]!.id).toBe("example");
    try {
      validateRevision(`store: sqlite:x\nsmtp: { hostname: a }\n${revision}`, "r", registry);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues.map((i) => i.path).sort()).toEqual(["smtp", "store"]);
    }
    // Templates are compiled at publish: an unknown placeholder refuses the revision.
    const badTemplate = `${revision}    hold: { notice_templates: { en: { subject: "held {bogus}", body: "b" } } }\n`;
    expect(() => validateRevision(badTemplate, "r", registry)).toThrow(/bogus/);
    expect(() => validateRevision("- a\n- b\n", "r", registry)).toThrow(/mapping/);
    expect(() => validateRevision("tenants: [\n", "r", registry)).toThrow(ConfigError);
  });

  it("composes: node sections from the file, cluster sections only from the revision", () => {
    const out = parse(composeConfig(local, revision)) as Record<string, unknown>;
    expect(out.node).toEqual({ name: "n1", role: "mx" });
    expect(out.delivery).toBe("smtp://127.0.0.1:10025");
    expect((out.tenants as { id: string }[]).map((t) => t.id)).toEqual(["example"]);
    // A section the revision leaves out is not taken from the file: the revision is complete.
    const bare = parse(composeConfig(local, "policy: {}\n")) as Record<string, unknown>;
    expect(bare.tenants).toBeUndefined();
    expect(parseConfig(composeConfig(local, revision), "c", registry).policy.thresholds?.quarantine).toBe(9);
  });

  it("takes identity from the environment over the file", () => {
    const cfg = parseConfig(local, "l", registry);
    expect(nodeIdentity(cfg, {})).toEqual({ name: "n1", role: "mx" });
    expect(nodeIdentity(cfg, { SLUICE_NODE_NAME: "edge-7", SLUICE_NODE_ROLE: "submission" })).toEqual({
      name: "edge-7",
      role: "submission",
    });
  });
});
