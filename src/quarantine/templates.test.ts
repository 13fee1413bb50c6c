// Tenant quarantine/hold settings at configuration load: template typos fail with their path,
// link secrets must be long, defaults fill in; and the built-in texts use only known variables.
import { describe, it, expect } from "vitest";
import { parseConfig } from "../config/load.ts";
import { FilterRegistry } from "../pipeline/registry.ts";
import { builtinFilters } from "../filters/index.ts";
import {
  APPROVAL_DEFAULTS,
  compilePair,
  DIGEST_DEFAULTS,
  DIGEST_VARIABLES,
  NOTICE_DEFAULTS,
  NOTICE_VARIABLES,
} from "./templates.ts";

const registry = new FilterRegistry(builtinFilters());
const yaml = (extra: string) => `
node: { link_secret: "0123456789abcdef0123456789abcdef" }
tenants:
  - id: t
    domains: [t.example]
${extra}`;

describe("tenant quarantine and hold settings", () => {
  it("fills defaults", () => {
    const c = parseConfig(
      yaml(`    quarantine: { digest: { enabled: true, link_base: "https://c.example/l" } }\n    hold: {}`),
      "x.yaml",
      registry,
    );
    const t = c.tenants[0]!;
    expect(t.quarantine).toMatchObject({ retention_days: 30, purge_after_days: 60 });
    expect(t.quarantine?.digest).toMatchObject({ interval_minutes: 1440, link_ttl_hours: 72 });
    expect(t.hold).toEqual({ notify_sender: true, supervisor_bcc: [] });
  });

  it("refuses a template with an unknown variable, naming the path", () => {
    expect(() =>
      parseConfig(
        yaml(`    hold: { notice_templates: { en: { subject: "{subjcet}", body: "b" } } }`),
        "x.yaml",
        registry,
      ),
    ).toThrow(
      /tenants\[0\]\.hold\.notice_templates\.en\.subject: unknown variable \{subjcet\}.*did you mean \{subject\}/,
    );
  });

  it("refuses a short link secret and an approval mode without approvers", () => {
    expect(() => parseConfig(`node: { link_secret: "short" }\n`, "x.yaml", registry)).toThrow(/link_secret/);
    expect(() => parseConfig(yaml(`    hold: { approval: { approvers: [] } }`), "x.yaml", registry)).toThrow(
      /approvers/,
    );
  });

  it("built-in texts compile in both languages", () => {
    for (const lang of ["en", "ja"] as const) {
      expect(() => compilePair(DIGEST_DEFAULTS[lang], undefined, DIGEST_VARIABLES, "d")).not.toThrow();
      expect(() => compilePair(NOTICE_DEFAULTS[lang], undefined, NOTICE_VARIABLES, "n")).not.toThrow();
      expect(() => compilePair(APPROVAL_DEFAULTS[lang], undefined, NOTICE_VARIABLES, "a")).not.toThrow();
    }
  });
});
