// RFC 5228 examples (sections 2-5 and the complete example of section 9), run against small messages.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compileSieve } from "./compile.ts";
import { fakeEnv } from "./environment.fake.ts";
import { runSieve } from "./index.ts";
import { run } from "../../test/helpers/sieve.ts";

const msg = (headers: string[], body = "hello\r\n"): string => headers.join("\r\n") + "\r\n\r\n" + body;

describe("RFC 5228 section 9 complete example", () => {
  const script = compileSieve(
    readFileSync(new URL("./fixtures/rfc5228-section9.sieve", import.meta.url), "utf8"),
  );
  const cases: [string, string[], unknown[]][] = [
    [
      "mailing list to filter",
      ["Sender: owner-ietf-mta-filters@imc.org", "From: a@x.org", "To: me@example.com"],
      [{ type: "fileinto", folder: "filter", copy: false }],
    ],
    ["company mail kept", ["From: boss@EXAMPLE.com", "To: me@example.com"], [{ type: "keep" }]],
    [
      "not to me is spam",
      ["From: a@x.org", "To: you@elsewhere.org"],
      [{ type: "fileinto", folder: "spam", copy: false }],
    ],
    [
      "spam subject",
      ["From: a@x.org", "Cc: me@example.com", "Subject: Make lots of MONEY fast!"],
      [{ type: "fileinto", folder: "spam", copy: false }],
    ],
    [
      "personal",
      ["From: friend@x.org", "To: club@other.org", "Cc: Me <me@example.com>", "Subject: lunch"],
      [{ type: "fileinto", folder: "personal", copy: false }],
    ],
  ];
  it.each(cases)("%s", (_name, headers, actions) => {
    const result = runSieve(script, fakeEnv(msg(headers)));
    expect(result.actions).toEqual(actions);
    expect(result.implicitKeep).toBe(false);
  });
});

describe("RFC 5228 commands and tests", () => {
  const coyote = msg([
    "From: coyote@desert.example.org",
    "To: roadrunner@acme.example.com",
    "Subject: $$$ offer",
  ]);

  it("3.1 if/elsif/else takes the first true branch", () => {
    const src = `require "fileinto";
      if header :contains "from" "coyote" { discard; }
      elsif header :contains ["subject"] ["$$$"] { discard; }
      else { fileinto "INBOX"; }`;
    expect(run(src, coyote).actions).toEqual([{ type: "discard" }]);
    expect(run(src, msg(["From: a@b.c", "Subject: $$$"])).actions).toEqual([{ type: "discard" }]);
    expect(run(src, msg(["From: a@b.c", "Subject: hi"])).actions).toEqual([
      { type: "fileinto", folder: "INBOX", copy: false },
    ]);
  });

  it("3.3 stop ends the script and leaves the implicit keep", () => {
    const r = run("if true { stop; } discard;", coyote);
    expect(r).toMatchObject({ actions: [], implicitKeep: true });
  });

  it("4.1 fileinto, 4.2 redirect, 4.3 keep, 4.4 discard", () => {
    expect(
      run(
        'require "fileinto"; if header :contains ["from"] "coyote" { fileinto "INBOX.harassment"; }',
        coyote,
      ).actions,
    ).toEqual([{ type: "fileinto", folder: "INBOX.harassment", copy: false }]);
    expect(run('redirect "bart@example.com";', coyote)).toMatchObject({
      actions: [{ type: "redirect", address: "bart@example.com", copy: false }],
      implicitKeep: false,
    });
    expect(run("keep;", coyote)).toMatchObject({ actions: [{ type: "keep" }], implicitKeep: false });
    expect(
      run('if header :contains ["from"] ["coyote@desert.example.org"] { discard; }', coyote),
    ).toMatchObject({
      actions: [{ type: "discard" }],
      implicitKeep: false,
    });
  });

  it("2.10.2 implicit keep survives when no action cancels it", () => {
    expect(run("if false { discard; }", coyote)).toEqual({
      actions: [],
      implicitKeep: true,
      headerEdits: [],
      steps: 2,
    });
  });

  it("4 duplicate actions are performed once; keep plus discard keeps", () => {
    const r = run(
      'require "fileinto"; fileinto "a"; fileinto "a"; redirect "x@y.z"; redirect "X@Y.Z"; keep; keep; discard;',
      coyote,
    );
    expect(r.actions.map((a) => a.type)).toEqual(["fileinto", "redirect", "keep", "discard"]);
  });

  it("5.1 address with :all/:localpart/:domain", () => {
    const m = msg(['From: "Tim" <tim@example.com>', "To: a@b.example, (comment) c@d.example"]);
    expect(run('if address :is :all "from" "tim@example.com" { discard; }', m).actions).toEqual([
      { type: "discard" },
    ]);
    expect(run('if address :localpart :is "from" "TIM" { discard; }', m).actions).toHaveLength(1);
    expect(run('if address :domain :is "to" "d.example" { discard; }', m).actions).toHaveLength(1);
    expect(run('if address :domain :is "from" "tim" { discard; }', m).actions).toHaveLength(0);
  });

  it("5.2 allof / 5.3 anyof truth tables", () => {
    const t = (test: string): boolean => run(`if ${test} { discard; }`).actions.length === 1;
    expect([t("allof (false, false)"), t("allof (false, true)"), t("allof (true, true)")]).toEqual([
      false,
      false,
      true,
    ]);
    expect([t("anyof (false, false)"), t("anyof (false, true)"), t("anyof (true, true)")]).toEqual([
      false,
      true,
      true,
    ]);
  });

  it("5.4 envelope, including the null reverse-path", () => {
    const src = 'require "envelope"; if envelope :all :is "from" "tim@example.com" { discard; }';
    expect(run(src, coyote, { from: "tim@example.com" }).actions).toHaveLength(1);
    expect(run(src, coyote, { from: "other@example.com" }).actions).toHaveLength(0);
    const nul = 'require "envelope"; if envelope :domain :is "from" "" { discard; }';
    expect(run(nul, coyote, { from: "" }).actions).toHaveLength(1);
    expect(
      run('require "envelope"; if envelope :domain :is "to" "acme.example.com" { discard; }', coyote).actions,
    ).toHaveLength(1);
  });

  it("5.5 exists needs every header", () => {
    expect(run('if not exists ["From","Date"] { discard; }', coyote).actions).toHaveLength(1);
    expect(run('if exists ["From","Subject"] { discard; }', coyote).actions).toHaveLength(1);
  });

  it("5.7 header: empty key with :is and :contains", () => {
    const m = msg(["X-Caffeine: ", "Subject: x"]);
    expect(run('if header :is ["x-caffeine"] [""] { discard; }', m).actions).toHaveLength(1);
    expect(run('if header :contains "X-Caffeine" "" { discard; }', m).actions).toHaveLength(1);
    expect(run('if header :contains "X-Missing" "" { discard; }', m).actions).toHaveLength(0);
  });

  it("5.9 size :over / :under with quantifiers", () => {
    const big = msg(["Subject: x"], "a".repeat(600 * 1024));
    expect(run("if size :over 500K { discard; }", big).actions).toHaveLength(1);
    expect(run("if size :under 500K { discard; }", big).actions).toHaveLength(0);
    expect(run("if size :over 500K { discard; }", coyote).actions).toHaveLength(0);
  });

  it("2.7.1 match types and 2.7.3 comparators", () => {
    const m = msg(["Subject: MAKE MONEY FAST"]);
    expect(
      run('if header :is :comparator "i;octet" "Subject" "make money fast" { discard; }', m).actions,
    ).toHaveLength(0);
    expect(run('if header :is "Subject" "make money fast" { discard; }', m).actions).toHaveLength(1);
    expect(run('if header :matches "Subject" "*money*" { discard; }', m).actions).toHaveLength(1);
    expect(run('if header :matches "Subject" "MAKE ?ONEY *" { discard; }', m).actions).toHaveLength(1);
    expect(run('if header :matches "Subject" "MAKE \\\\?ONEY *" { discard; }', m).actions).toHaveLength(0);
    expect(run('if header :contains "Subject" "money" { discard; }', m).actions).toHaveLength(1);
  });

  it("2.4.2 multi-line strings feed actions verbatim", () => {
    const src = 'require "reject";\nreject text:\nline one\n..stuffed\n.\n;';
    expect(run(src).actions).toEqual([{ type: "reject", reason: "line one\r\n.stuffed\r\n" }]);
  });

  it("2.10.6 runtime errors are typed", () => {
    expect(() => run('require ["variables"]; set "a" ""; redirect "${a}";')).toThrow(
      /redirect address "" is not valid/,
    );
  });
});
