// Secrets never shown or recorded: revision text with hashes, bind passwords and filter
// passwords redacted (layout kept), restored from the previous revision on publish, and a
// "[redacted]" with nothing to restore reported as FILE:LINE: path: message.
import { describe, expect, it } from "vitest";
import { ConfigError, formatIssue } from "./errors.ts";
import { REDACTED, redactConfigText, redactValue, restoreRedacted } from "./redact.ts";

const HASH = "scrypt$131072$8$1$c2FsdA$a2V5";
const TEXT = `# cluster policy
directory:
  type: ldap
  url: ldap://ldap.example
  bind_dn: cn=sluice
  bind_password: "s3cret-bind"
  bind_password_file: /etc/sluice/ldap.pw
policy:
  filters:
    spam-rspamd: { options: { url: "http://r", password: hunter2 } }
tenants:
  - id: a
    domains: [a.example]
    users:
      - { address: x@a.example, password_hash: "${HASH}" }
      - address: y@a.example
        password_hash: ${HASH}
`;

describe("configuration secrets", () => {
  it("redacts hashes, bind and filter passwords, and keeps everything else", () => {
    const out = redactConfigText(TEXT);
    expect(out).not.toContain("scrypt$");
    expect(out).not.toContain("s3cret-bind");
    expect(out).not.toContain("hunter2");
    expect(out).toContain("# cluster policy");
    expect(out).toContain("bind_password_file: /etc/sluice/ldap.pw");
    expect(out).toContain("address: x@a.example");
    // Layout kept as written: flow collections, comments, line numbers.
    expect(out).toContain("    domains: [a.example]");
    expect(out.split("\n").length).toBe(TEXT.split("\n").length);
    expect(out.split(REDACTED).length - 1).toBe(4);
  });

  it("restores redacted values from the previous revision, matching users by address", () => {
    const edited = redactConfigText(TEXT).replace(
      "      - { address: x@a.example",
      "      - address: z@a.example\n      - { address: x@a.example",
    );
    const back = restoreRedacted(edited, TEXT, "rev");
    expect(back).toContain("s3cret-bind");
    expect(back).toContain("hunter2");
    expect(back.split(HASH).length - 1).toBe(2);
    expect(back).toContain("address: z@a.example");
  });

  it("reports a [redacted] with no earlier value as FILE:LINE: path", () => {
    const text = `tenants:\n  - id: a\n    domains: [a.example]\n    users:\n      - address: new@a.example\n        password_hash: "${REDACTED}"\n`;
    try {
      restoreRedacted(text, TEXT, "revision for role mx");
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues.map(formatIssue)).toEqual([
        `revision for role mx:6: tenants[0].users[0].password_hash: ${REDACTED} stands for a secret the previous revision does not have here: enter the value`,
      ]);
    }
  });

  it("redacts audit values: secret keys, hashes and keys anywhere, configuration text", () => {
    const v = redactValue({
      passwordHash: HASH,
      note: "x",
      nested: [{ password: "p", other: "-----BEGIN PRIVATE KEY-----\nAAA\n-----END PRIVATE KEY-----" }],
      text: TEXT,
      passwordChanged: true,
    }) as Record<string, unknown>;
    expect(JSON.stringify(v)).not.toMatch(/scrypt\$|s3cret|hunter2|PRIVATE KEY|"p"/);
    expect(v.note).toBe("x");
    expect(v.passwordChanged).toBe(true);
  });
});
