// The revision text a filter-order change publishes: only the tenant's filter settings change,
// comments and the other tenants stay as they were; an unknown tenant is refused.
import { describe, it, expect } from "vitest";
import { clusterSections, withFilterOrder } from "./filter-order.ts";

const TEXT = `# published by ops
policy:
  filters:
    virus: { enabled: false } # off everywhere
tenants:
  - id: acme # the ISP's first customer
    domains: [acme.test]
  - id: globex
    domains: [globex.test]
    policy:
      filters:
        sieve: { priority: 40 }
`;

describe("filter order revisions", () => {
  it("sets the tenant's priorities and on/off, keeping comments and other tenants", () => {
    const out = withFilterOrder(TEXT, "acme", [
      { name: "sieve", priority: 15, enabled: true },
      { name: "header_sanity", priority: 20, enabled: false },
    ]);
    expect(out).toContain("# published by ops");
    expect(out).toContain("# the ISP's first customer");
    expect(out).toMatch(/- id: acme[\s\S]*sieve:\s*\n\s*priority: 15\s*\n\s*enabled: true/);
    expect(out).toMatch(/header_sanity:\s*\n\s*priority: 20\s*\n\s*enabled: false/);
    expect(out).toContain("sieve: { priority: 40 }");
    const again = withFilterOrder(out, "globex", [{ name: "sieve", priority: 45, enabled: true }]);
    expect(again).toContain("sieve: { priority: 45, enabled: true }");
  });

  it("refuses a tenant the published configuration does not have", () => {
    expect(() => withFilterOrder(TEXT, "initech", [{ name: "sieve", priority: 1, enabled: true }])).toThrow(
      /tenant initech is not in the configuration/,
    );
  });

  it("a first revision carries only the cluster sections of the node's file", () => {
    const text = clusterSections(`node: { name: mx1 }\nstore: sqlite:/x.db\n${TEXT}`);
    expect(text).not.toContain("store:");
    expect(text).toContain("tenants:");
  });
});
