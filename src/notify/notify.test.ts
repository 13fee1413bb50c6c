// Notification templates and rendering: compile errors name the place, rendered messages parse
// back (mailparser) to the same subject and body in English and Japanese, headers stay single-line.
import { describe, expect, it } from "vitest";
import { simpleParser } from "mailparser";
import { compileTemplate, NotifyTemplateError } from "./template.ts";
import { compileTemplates, NOTIFY_VARIABLES } from "./templates.ts";
import { renderNotification } from "./render.ts";

const vars = {
  virus: "Custom.Eicar-Test-NDB",
  subject: "請求書 / invoice",
  sender: "alice@example.org",
  recipient: "bob@example.com",
  date: "2025-01-06T10:00:00Z",
  quarantine_id: "Q123",
  tenant: "acme",
  action: "quarantine",
};

describe("templates", () => {
  it("substitutes variables and literal braces", () => {
    const t = compileTemplate("{{x}} {virus} in {subject}", NOTIFY_VARIABLES, "t");
    expect(t.render(vars)).toBe("{x} Custom.Eicar-Test-NDB in 請求書 / invoice");
    expect(t.variables).toEqual(["virus", "subject"]);
  });

  it("rejects an unknown variable with a hint and position", () => {
    expect(() => compileTemplate("a\nb {vires}", NOTIFY_VARIABLES, "x.y")).toThrow(
      /x\.y: unknown variable \{vires\} at line 2, column 3 \(did you mean \{virus\}\?\)/,
    );
  });

  it("rejects unclosed and stray braces", () => {
    expect(() => compileTemplate("a {virus", NOTIFY_VARIABLES, "p")).toThrow(
      /unclosed "\{" at line 1, column 3/,
    );
    expect(() => compileTemplate("a } b", NOTIFY_VARIABLES, "p")).toThrow(NotifyTemplateError);
  });

  it("names the configured path when a template set fails", () => {
    expect(() => compileTemplates({ admin: { ja: { body: "{quarantine}" } } })).toThrow(
      /^notify\.templates\.admin\.ja\.body: unknown variable \{quarantine\}/,
    );
  });
});

describe("renderNotification", () => {
  for (const lang of ["en", "ja"] as const) {
    it(`renders the ${lang} recipient notification that parses back`, async () => {
      const set = compileTemplates({
        recipient: { ja: { subject: "【隔離】{subject} — {virus}" } },
      });
      const pair = set.recipient[lang];
      const raw = await renderNotification({
        from: "postmaster@example.com",
        to: "bob@example.com",
        ...pair,
        vars,
        date: new Date("2025-01-06T10:00:00Z"),
      });
      const text = raw.toString("latin1");
      // Headers are 7-bit: the subject is RFC 2047 encoded.
      const head = text.slice(0, text.indexOf("\r\n\r\n"));
      expect(/^[\x00-\x7f]*$/.test(head)).toBe(true);
      expect(head).toMatch(/^Subject: =\?UTF-8\?/m);
      expect(head).toMatch(/^Auto-Submitted: auto-generated$/m);
      expect(head).toMatch(/^Message-ID: <[^>]+@example\.com>$/m);
      const parsed = await simpleParser(raw);
      expect(parsed.subject).toBe(pair.subject.render(vars));
      expect(parsed.text?.replace(/\r\n/g, "\n")).toBe(pair.body.render(vars));
      expect(parsed.date?.toISOString()).toBe("2025-01-06T10:00:00.000Z");
      expect(parsed.from?.value[0]?.address).toBe("postmaster@example.com");
      if (lang === "ja") expect(parsed.subject).toBe("【隔離】請求書 / invoice — Custom.Eicar-Test-NDB");
      else expect(parsed.text).toContain("Quarantine id: Q123");
    });
  }

  it("keeps a hostile subject on one header line", async () => {
    const set = compileTemplates(undefined);
    const raw = await renderNotification({
      from: "postmaster@example.com",
      to: "bob@example.com",
      ...set.admin.en,
      vars: { ...vars, virus: "X\r\nBcc: victim@example.net" },
    });
    const parsed = await simpleParser(raw);
    expect(parsed.headers.has("bcc")).toBe(false);
    expect(parsed.subject).toBe("[virus] X Bcc: victim@example.net from alice@example.org");
  });
});
