import { describe, expect, it } from "vitest";
import pino from "pino";
import { Runtime } from "../runtime.ts";
import type { Filter, Stage } from "./types.ts";
import { stageNeeds } from "./stage-needs.ts";

const probe = (name: string, stages: Stage[], enabledByDefault = false, group = name): Filter => ({
  name,
  group,
  stages,
  priority: 50,
  enabledByDefault,
  parseOptions: () => ({}),
  check: () => ({}),
});

const PROBES = [
  probe("at_connect", ["connect"]),
  probe("at_helo", ["helo", "data"]),
  probe("at_rcpt", ["rcpt"]),
  probe("spam_at_mail", ["mail"], false, "spam"),
];

// Built-in filters that hook envelope stages (size: mail, lists: rcpt) off unless a test enables them.
const OFF = `size: { enabled: false }
    lists: { enabled: false }`;

async function needs(yaml: string) {
  const rt = await Runtime.create({
    configText: yaml,
    store: "never",
    logger: pino({ level: "silent" }),
    extraFilters: PROBES,
  });
  return { rt, needs: stageNeeds(rt.registry.all(), rt.config) };
}

const sorted = (s: ReadonlySet<string>) => [...s].sort();

describe("stageNeeds", () => {
  it("the built-in cheap filters: size hooks MAIL, lists hooks RCPT", async () => {
    const { needs: n } = await needs(`policy: { filters: { auth: { enabled: false } } }`);
    expect(sorted(n.answer)).toEqual(["mail", "rcpt"]);
    expect(n.filters).toContain("size");
    expect(n.filters).not.toContain("auth");
  });

  it("nothing enabled before DATA: no envelope stage needs an answer", async () => {
    const { needs: n } = await needs(`
policy:
  filters:
    ${OFF}
`);
    expect(sorted(n.answer)).toEqual([]);
  });

  it("a filter enabled only by one tenant, or only by this node's role, counts", async () => {
    const { needs: n } = await needs(`
node: { role: edge }
roles:
  edge: { policy: { filters: { at_connect: { enabled: true } } } }
  other: { policy: { filters: { at_helo: { enabled: true } } } }
policy:
  filters:
    ${OFF}
tenants:
  - { id: a, domains: [a.test] }
  - id: b
    domains: [b.test]
    policy: { filters: { at_rcpt: { enabled: true } } }
`);
    // Another role's policy never applies on this node.
    expect(sorted(n.answer)).toEqual(["connect", "rcpt"]);
  });

  it("a filter on globally but off in every tenant still runs for mail to no tenant", async () => {
    const { needs: n } = await needs(`
policy:
  filters:
    ${OFF}
    at_connect: { enabled: true }
tenants:
  - id: a
    domains: [a.test]
    policy: { filters: { at_connect: { enabled: false } } }
`);
    expect(sorted(n.answer)).toEqual(["connect"]);
  });

  it("split_mixed_policies: defer answers at RCPT even without RCPT filters", async () => {
    const { needs: n } = await needs(`
policy:
  filters:
    ${OFF}
tenants:
  - { id: a, domains: [a.test], split_mixed_policies: defer }
`);
    expect(sorted(n.answer)).toEqual(["rcpt"]);
  });

  it("covers every filter any recipient's resolved policy runs (users can only switch spam off or on)", async () => {
    const { rt, needs: n } = await needs(`
policy:
  spam_filter: false
  filters:
    ${OFF}
    spam_at_mail: { enabled: true }
tenants:
  - id: a
    domains: [a.test]
    policy: { filters: { at_rcpt: { enabled: true } } }
    users:
      - { address: on@a.test, spam_filter: true }
      - { address: off@a.test, spam_filter: false }
  - id: b
    domains: [b.test]
    policy: { filters: { spam_at_mail: { enabled: false } } }
    users:
      - { address: on@b.test, spam_filter: true }
`);
    const policies = [
      rt.resolver.connectionPolicy(),
      ...(await Promise.all(
        ["on@a.test", "off@a.test", "on@b.test", "x@nowhere.test"].map((a) => rt.resolver.forRecipient(a)),
      )),
    ];
    const ran = new Set(
      policies.flatMap((p) =>
        Object.entries(p.filters)
          .filter(([, s]) => s.enabled)
          .map(([k]) => k),
      ),
    );
    expect(ran.has("spam_at_mail")).toBe(true); // on@a.test turned the spam group back on
    for (const f of ran) expect(n.filters).toContain(f);
    expect(sorted(n.answer)).toEqual(["mail", "rcpt"]);
  });
});
