// The scripts in examples/sieve compile and do what their header comments say.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compileSieve, type CompiledScript } from "./compile.ts";
import { fakeEnv, type FakeEnvOptions } from "./environment.fake.ts";
import { runSieve } from "./index.ts";
import type { SieveMimePart } from "./environment.ts";
import { buildMimeTree } from "./mime-tree.ts";

const load = (name: string): CompiledScript =>
  compileSieve(readFileSync(new URL(`../../examples/sieve/${name}`, import.meta.url), "utf8"), {
    name,
    knownLists: (l) => l === "tag:internal-domains",
  });

const mime = (headers: string[], parts: { type: string; extra?: string[]; body: string }[]): string =>
  [
    ...headers,
    'Content-Type: multipart/mixed; boundary="b1"',
    "",
    ...parts.flatMap((p) => ["--b1", `Content-Type: ${p.type}`, ...(p.extra ?? []), "", p.body]),
    "--b1--",
    "",
  ].join("\r\n");
const plain = (headers: string[], body = "Hello\r\n"): string => [...headers, "", body].join("\r\n");

describe("examples/sieve/misdelivery-hold.sieve", () => {
  const script = load("misdelivery-hold.sieve");
  const lists = { "tag:internal-domains": ["corp.example", "corp-subsidiary.example"] };
  const withPdf = mime(
    ["From: alice@corp.example", "Subject: contract"],
    [
      { type: "text/plain", body: "see attached" },
      {
        type: "application/pdf",
        extra: ['Content-Disposition: attachment; filename="c.pdf"'],
        body: "JVBERi0=",
      },
    ],
  );
  const run = (message: string, to: string): ReturnType<typeof runSieve> =>
    runSieve(script, fakeEnv(message, { from: "alice@corp.example", to, lists }));

  it("holds an attachment to an external recipient and notifies the sender", () => {
    expect(run(withPdf, "bob@partner.example")).toMatchObject({
      actions: [
        { type: "hold", minutes: 5, reason: "attachment to an external recipient" },
        { type: "notify", to: "sender", template: "misdelivery-hold" },
      ],
      implicitKeep: true,
    });
  });
  it("lets internal recipients through", () => {
    expect(run(withPdf, "carol@CORP-subsidiary.example").actions).toEqual([]);
  });
  it("lets external mail without attachments through", () => {
    expect(run(plain(["From: alice@corp.example", "Subject: hi"]), "bob@partner.example").actions).toEqual(
      [],
    );
    const textOnly = mime(
      ["From: alice@corp.example"],
      [
        { type: "text/plain", body: "a" },
        { type: "text/html", body: "<p>a</p>" },
      ],
    );
    expect(run(textOnly, "bob@partner.example").actions).toEqual([]);
  });
  it("treats a text file attached as a file as an attachment", () => {
    const txt = mime(
      ["From: alice@corp.example"],
      [
        { type: "text/plain", body: "a" },
        {
          type: "text/csv",
          extra: ['Content-Disposition: attachment; filename="salaries.csv"'],
          body: "x,y",
        },
      ],
    );
    expect(run(txt, "bob@partner.example").actions.map((a) => a.type)).toEqual(["hold", "notify"]);
  });
});

describe("examples/sieve/spam-subject-tag.sieve", () => {
  const script = load("spam-subject-tag.sieve");
  const msg = plain(["From: x@spam.example", "Subject: Cheap meds"]);
  const edits = (o: FakeEnvOptions, m = msg): unknown => runSieve(script, fakeEnv(m, o)).headerEdits;

  it("tags certain spam with [SPAM]", () => {
    expect(edits({ spamScore: 9 })).toEqual([
      { op: "delete", name: "Subject", occurrence: 1 },
      { op: "add", name: "Subject", value: "[SPAM] Cheap meds", last: true },
      { op: "add", name: "X-Spam-Flag", value: "YES", last: false },
    ]);
  });
  it("tags likely spam with [SPAM?], also from the Bayes symbol alone", () => {
    expect(edits({ spamScore: 6 })).toContainEqual({
      op: "add",
      name: "Subject",
      value: "[SPAM?] Cheap meds",
      last: true,
    });
    expect(edits({ spamScore: 2, symbols: { BAYES_SPAM: 7.5 } })).toContainEqual({
      op: "add",
      name: "Subject",
      value: "[SPAM?] Cheap meds",
      last: true,
    });
  });
  it("leaves clean, untested and already tagged mail alone", () => {
    expect(edits({ spamScore: 1 })).toEqual([]);
    expect(edits({ spamScore: null })).toEqual([]);
    expect(edits({ spamScore: 9 }, plain(["Subject: [SPAM] Cheap meds"]))).toEqual([]);
  });
  it("tags a message without Subject", () => {
    expect(edits({ spamScore: 10 }, plain(["From: x@y.z"]))).toEqual([
      { op: "add", name: "Subject", value: "[SPAM] ", last: true },
      { op: "add", name: "X-Spam-Flag", value: "YES", last: false },
    ]);
  });
});

describe("examples/sieve/department-routing.sieve", () => {
  const script = load("department-routing.sieve");
  const route = (to: string): unknown => runSieve(script, fakeEnv(plain(["Subject: q"]), { to })).actions;

  it.each([
    ["support@corp.example", [{ type: "redirect", address: "tickets@helpdesk.corp.example", copy: false }]],
    ["HelpDesk@corp.example", [{ type: "redirect", address: "tickets@helpdesk.corp.example", copy: false }]],
    ["sales+EMEA@corp.example", [{ type: "redirect", address: "sales-emea@corp.example", copy: false }]],
    ["sales+apac@corp.example", [{ type: "redirect", address: "sales-apac@corp.example", copy: false }]],
    ["sales+mars@corp.example", [{ type: "redirect", address: "sales-team@corp.example", copy: false }]],
    ["sales@corp.example", [{ type: "redirect", address: "sales-team@corp.example", copy: false }]],
    ["legal@corp.example", [{ type: "redirect", address: "legal-archive@records.corp.example", copy: true }]],
    ["support@other.example", []],
    ["alice@corp.example", []],
  ])("%s", (to, expected) => {
    expect(route(to)).toEqual(expected);
  });
  it("keeps legal mail in the mailbox too", () => {
    expect(runSieve(script, fakeEnv(plain([]), { to: "legal@corp.example" })).implicitKeep).toBe(true);
  });
});

describe("examples/sieve/drop-executables.sieve", () => {
  const script = load("drop-executables.sieve");
  const attach = (type: string, filename: string): string =>
    mime(
      ["From: x@outside.example", "Subject: invoice"],
      [
        { type: "text/plain", body: "please run it" },
        {
          type: `${type}; name="${filename}"`,
          extra: [
            `Content-Disposition: attachment; filename="${filename}"`,
            "Content-Transfer-Encoding: base64",
          ],
          body: "TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        },
      ],
    );
  const run = (m: string, to = "dev@lab.example"): ReturnType<typeof runSieve> =>
    runSieve(script, fakeEnv(m, { to }));

  it("drops .exe and other executable names, and executable MIME types", () => {
    for (const m of [
      attach("application/octet-stream", "setup.exe"),
      attach("application/octet-stream", "INVOICE.PDF.SCR"),
      attach("application/zip", "tool.jar"),
      attach("application/x-msdownload", "harmless-looking.dat"),
    ]) {
      expect(run(m)).toMatchObject({
        actions: [{ type: "discard" }, { type: "notify", to: "admin", template: "executable-dropped" }],
        implicitKeep: false,
      });
    }
  });
  it("keeps other attachments and other domains", () => {
    expect(run(attach("application/pdf", "invoice.pdf")).actions).toEqual([]);
    expect(run(attach("application/octet-stream", "notes.exe.txt")).actions).toEqual([]);
    expect(run(attach("application/octet-stream", "setup.exe"), "dev@prod.example").actions).toEqual([]);
  });
  it("stays fast on a multi-megabyte message", () => {
    const big = attach("application/pdf", "big.pdf").replace("TVqQ", "A".repeat(8 * 1024 * 1024));
    const start = performance.now();
    expect(run(big).actions).toEqual([]);
    expect(performance.now() - start).toBeLessThan(2000);
  });
});

describe("examples/sieve/tenant-gateway.sieve with global/executable-attachments.sieve", () => {
  const dir = new URL("../../examples/sieve/", import.meta.url);
  const script = compileSieve(readFileSync(new URL("tenant-gateway.sieve", dir), "utf8"), {
    name: "tenant-gateway.sieve",
    include: {
      resolve: (location, name) => {
        if (location !== "global") return null;
        const url = new URL(`global/${name}.sieve`, dir);
        return { id: url.pathname, name: `global/${name}.sieve`, source: readFileSync(url, "utf8") };
      },
    },
    notifyAllowed: (a) => a.endsWith("@corp.example"),
  });
  const withFile = (type: string, filename: string) =>
    mime(
      ["From: mallory@outside.example", "To: alice@corp.example", "Subject: invoice"],
      [
        { type: "text/plain", body: "see attached" },
        {
          type: `${type}; name="${filename}"`,
          extra: [
            `Content-Disposition: attachment; filename="${filename}"`,
            "Content-Transfer-Encoding: base64",
          ],
          body: "UEsDBA==",
        },
      ],
    );
  const runWith = (message: string, members?: { name: string; type: string }[]) => {
    const tree = buildMimeTree(message);
    if (members) {
      (tree.children[1] as SieveMimePart).members = members.map((m) => ({
        headers: [
          { name: "Content-Type", value: m.type },
          { name: "Content-Disposition", value: `attachment; filename="${m.name}"` },
        ],
        children: [],
        text: () => "",
      }));
    }
    return runSieve(
      script,
      fakeEnv(message, { from: "mallory@outside.example", to: "alice@corp.example", mime: tree }),
    );
  };

  it("quarantines an executable attachment and notifies the security desk", () => {
    expect(runWith(withFile("application/octet-stream", "Invoice.EXE")).actions).toMatchObject([
      { type: "quarantine", reason: "executable attachment Invoice.EXE" },
      {
        type: "enotify",
        recipients: ["security@corp.example"],
        importance: "1",
        message: "Quarantined a message from mallory@outside.example with Invoice.EXE",
        headers: [{ name: "subject", value: "Executable quarantined" }],
      },
    ]);
  });

  it("finds an executable inside a zip attachment (vnd.sluice.archive)", () => {
    const res = runWith(withFile("application/zip", "invoice.zip"), [
      { name: "invoice.pdf", type: "application/pdf" },
      { name: "tools/setup.bin", type: "application/x-msdownload" },
    ]);
    expect(res.actions[0]).toEqual({ type: "quarantine", reason: "executable attachment tools/setup.bin" });
  });

  it("lets other attachments through", () => {
    expect(
      runWith(withFile("application/zip", "docs.zip"), [{ name: "a.pdf", type: "application/pdf" }]).actions,
    ).toEqual([]);
  });
});
