// RFC 5703 mime, foreverypart and extracttext: the RFC's examples, the facts Pigeonhole's test suite
// checks (loop order, nested loops, :anychild, structured field views), limits, and the
// vnd.sluice.archive members.
import { describe, expect, it } from "vitest";
import { compileSieve } from "./compile.ts";
import type { SieveMimePart } from "./environment.ts";
import { fakeEnv } from "./environment.fake.ts";
import { runSieve } from "./index.ts";
import { buildMimeTree } from "./mime-tree.ts";
import { firstError, run } from "../../test/helpers/sieve.ts";

const NESTED = [
  "From: Hendrik <hendrik@example.com>",
  "To: Harrie <harrie@example.com>",
  "Subject: nested parts",
  "Content-Type: multipart/mixed; boundary=AA",
  "X-Test: AA",
  "",
  "This is a multi-part message in MIME format.",
  "--AA",
  "Content-Type: multipart/mixed; boundary=BB",
  "X-Test: BB",
  "",
  "--BB",
  'Content-Type: text/plain; charset="us-ascii"',
  "X-Test: CC",
  "",
  "Hello",
  "",
  "--BB",
  'Content-Type: text/plain; charset="us-ascii"',
  "X-Test: DD",
  "",
  "Hello again",
  "",
  "--BB--",
  "",
  "--AA",
  'Content-Type: text/plain; charset="us-ascii"',
  "X-Test: EE",
  "",
  "And again",
  "",
  "--AA--",
  "epilogue",
  "",
].join("\r\n");

const ATTACHMENT = [
  "From: a@example.org",
  "To: b@example.net",
  "Subject: report",
  "MIME-Version: 1.0",
  'Content-Type: multipart/mixed; boundary="b1"',
  "",
  "--b1",
  "Content-Type: text/plain; charset=iso-8859-1",
  "Content-Transfer-Encoding: quoted-printable",
  "",
  "Voil=E0 the CONFIDENTIAL report",
  "--b1",
  'Content-Type: application/pdf; name="important-report.pdf"',
  'Content-Disposition: attachment; filename="important-report.pdf"',
  "Content-Transfer-Encoding: base64",
  "",
  Buffer.from("%PDF-1.4 " + "x".repeat(300)).toString("base64"),
  "--b1",
  "Content-Type: application/x-stuff;",
  "\ttitle*0*=us-ascii'en'This%20is%20even%20more%20;",
  "\ttitle*1*=%2A%2A%2Afun%2A%2A%2A%20;",
  '\ttitle*2="isn\'t it!"',
  "",
  "stuff",
  "--b1--",
  "",
].join("\r\n");

/** X-Test values seen, in loop order, as a comma-separated trace in a variable. */
function trace(body: string, message = NESTED): string {
  const src = `require ["foreverypart", "mime", "variables", "editheader"];
set "t" "";
${body}
addheader "X-Trace" "\${t}";`;
  const res = run(src, message);
  const edit = res.headerEdits.find((e) => e.op === "add" && e.name === "X-Trace");
  return edit && edit.op === "add" ? edit.value : "";
}

describe("RFC 5703 foreverypart", () => {
  it("visits the message and every part in document order", () => {
    expect(trace(`foreverypart { if header :mime :matches "X-Test" "*" { set "t" "\${t}\${1},"; } }`)).toBe(
      "AA,BB,CC,DD,EE,",
    );
  });

  it("a nested loop visits the parts below the outer loop's part", () => {
    const src = `foreverypart { if header :mime :matches "X-Test" "*" { set "t" "\${t}\${1}(";
      foreverypart { if header :mime :matches "X-Test" "*" { set "t" "\${t}\${1} "; } }
      set "t" "\${t})"; } }`;
    expect(trace(src)).toBe("AA(BB CC DD EE )BB(CC DD )CC()DD()EE()");
  });

  it("break leaves the innermost loop; break :name the named one", () => {
    expect(
      trace(`foreverypart { if header :mime :matches "X-Test" "*" { set "t" "\${t}\${1}"; }
        if header :mime "X-Test" "CC" { break; } }`),
    ).toBe("AABBCC");
    expect(
      trace(`foreverypart :name "outer" { if header :mime :matches "X-Test" "*" { set "t" "\${t}\${1}"; }
        foreverypart { if header :mime "X-Test" "DD" { break :name "outer"; } } }`),
    ).toBe("AA");
  });

  it("stop inside a loop ends the script", () => {
    const res = run(
      'require ["foreverypart", "fileinto"]; foreverypart { fileinto "a"; stop; } fileinto "b";',
      NESTED,
    );
    expect(res.actions).toEqual([{ type: "fileinto", folder: "a", copy: false }]);
  });

  it("RFC 5703 7 example: file a message with an important PDF", () => {
    const src = `require ["foreverypart", "mime", "fileinto"];
foreverypart {
  if allof (
      header :mime :param "filename" :contains "Content-Disposition" "important",
      header :mime :subtype "Content-Type" "pdf",
      size :over 100) {
    fileinto "INBOX.important";
    break;
  }
}`;
    expect(run(src, ATTACHMENT).actions).toEqual([
      { type: "fileinto", folder: "INBOX.important", copy: false },
    ]);
    expect(run(src, NESTED).actions).toEqual([]);
  });

  it("refuses break outside a loop, unknown loop names and nesting over 4 (Pigeonhole's limit)", () => {
    expect(firstError('require "foreverypart"; break;')).toBe(
      '1:25: "break" is not inside a foreverypart loop',
    );
    expect(firstError('require "foreverypart"; foreverypart :name "a" { break :name "b"; }')).toMatch(
      /not inside a foreverypart loop named "b"/,
    );
    const nest = (n: number) =>
      'require "foreverypart"; ' + "foreverypart { ".repeat(n) + "keep;" + " }".repeat(n);
    expect(() => compileSieve(nest(4))).not.toThrow();
    expect(firstError(nest(5))).toMatch(/exceeds the nesting limit \(4 levels\)/);
  });

  it("counts loop nesting at run time across included scripts", () => {
    const inner = 'require "foreverypart"; foreverypart { foreverypart { foreverypart { keep; } } }';
    const script = compileSieve(
      'require ["foreverypart", "include"]; foreverypart { foreverypart { include "deep"; } }',
      {
        include: {
          resolve: (_l, name) => (name === "deep" ? { id: "deep", name: "deep", source: inner } : null),
        },
      },
    );
    const deep = (n: number): string =>
      n === 0
        ? "Content-Type: text/plain\r\n\r\nleaf\r\n"
        : `Content-Type: multipart/mixed; boundary=b${n}\r\n\r\n--b${n}\r\n${deep(n - 1)}--b${n}--\r\n`;
    expect(() => runSieve(script, fakeEnv("Subject: deep\r\n" + deep(6)))).toThrow(/maxLoopDepth/);
  });
});

describe("RFC 5703 header/address/exists :mime", () => {
  it("without foreverypart :mime looks at the top-level message; :anychild at every part", () => {
    expect(run('require "mime"; if header :mime "X-Test" "CC" { discard; }', NESTED).actions).toEqual([]);
    expect(
      run('require "mime"; if header :mime :anychild "X-Test" "CC" { discard; }', NESTED).actions,
    ).toEqual([{ type: "discard" }]);
    expect(
      run('require "mime"; if header :mime :anychild :is "X-Test" ["AA","EE"] { discard; }', NESTED).actions,
    ).toHaveLength(1);
  });

  it(":type, :subtype, :contenttype and :param views of structured fields", () => {
    const yes = (test: string, msg = ATTACHMENT) =>
      run(`require "mime"; if ${test} { discard; }`, msg).actions.length === 1;
    expect(yes('header :mime :anychild :type "Content-Type" "application"')).toBe(true);
    expect(yes('header :mime :type "Content-Type" "multipart"')).toBe(true);
    expect(yes('header :mime :anychild :subtype "Content-Type" "pdf"')).toBe(true);
    expect(yes('header :mime :anychild :contenttype "Content-Type" "text/plain"')).toBe(true);
    expect(yes('header :mime :anychild :param "charset" "Content-Type" "ISO-8859-1"')).toBe(true);
    expect(yes('header :mime :anychild :param "filename" "Content-Disposition" "*.pdf"')).toBe(false);
    expect(yes('header :mime :anychild :param "filename" :matches "Content-Disposition" "*.pdf"')).toBe(true);
    expect(yes('header :mime :anychild :type "Content-Disposition" "attachment"')).toBe(true);
    expect(yes('header :mime :anychild :subtype "Content-Disposition" ""')).toBe(true);
    // RFC 2231 continuations and charsets are decoded.
    expect(
      yes(`header :mime :anychild :param "title" "Content-Type" "This is even more ***fun*** isn't it!"`),
    ).toBe(true);
    // A part without Content-Type is text/plain (RFC 2045 5.2).
    expect(yes('header :mime :type "Content-Type" "text"', "Subject: x\r\n\r\nbody\r\n")).toBe(true);
  });

  it(":param counts every named parameter present", () => {
    const src = `require ["mime", "relational"];
if header :mime :anychild :count "eq" :param ["name", "charset"] "Content-Type" "2" { discard; }`;
    expect(run(src, ATTACHMENT).actions).toEqual([{ type: "discard" }]);
  });

  it("exists :mime and address :mime", () => {
    const message = NESTED.replace("X-Test: DD", "X-Test: DD\r\nReply-To: list@lists.example.org");
    expect(run('require "mime"; if exists :mime "Reply-To" { discard; }', message).actions).toEqual([]);
    expect(
      run('require "mime"; if exists :mime :anychild "Reply-To" { discard; }', message).actions,
    ).toHaveLength(1);
    expect(
      run(
        'require "mime"; if address :mime :anychild :domain "Reply-To" "lists.example.org" { discard; }',
        message,
      ).actions,
    ).toHaveLength(1);
  });

  it("refuses :anychild and the options without :mime, and two options together", () => {
    expect(firstError('require "mime"; if header :anychild "a" "b" { }')).toBe(
      '1:27: the ":anychild" tag needs ":mime"',
    );
    expect(firstError('require "mime"; if header :mime :type :subtype "a" "b" { }')).toMatch(
      /conflicts with ":type"/,
    );
    expect(firstError('if header :mime "a" "b" { }')).toMatch(/requires extension "mime"/);
    expect(firstError('require "mime"; if exists :mime :type "a" { }')).toMatch(/unknown tag ":type"/);
  });
});

describe("RFC 5703 extracttext", () => {
  it("stores the current text part's decoded text, :first N characters", () => {
    const src = `require ["foreverypart", "mime", "variables", "extracttext", "fileinto"];
foreverypart {
  if header :mime :type "Content-Type" "text" {
    extracttext :first 5 "start";
    extracttext :upper "all";
    if string :contains "\${all}" "CONFIDENTIAL" { fileinto "confidential-\${start}"; }
  }
}`;
    expect(run(src, ATTACHMENT).actions).toEqual([
      { type: "fileinto", folder: "confidential-Voilà", copy: false },
    ]);
  });

  it("needs variables, foreverypart and an enclosing loop", () => {
    expect(firstError('require ["extracttext", "foreverypart"]; foreverypart { extracttext "t"; }')).toMatch(
      /"extracttext" cannot be used without "variables"/,
    );
    expect(firstError('require ["extracttext", "variables", "foreverypart"]; extracttext "t";')).toMatch(
      /not inside a foreverypart loop/,
    );
    expect(
      firstError('require ["extracttext", "variables", "foreverypart"]; foreverypart { extracttext "1"; }'),
    ).toMatch(/cannot assign to match variable/);
  });
});

describe("vnd.sluice.archive", () => {
  const member = (path: string, type: string): SieveMimePart => ({
    headers: [
      { name: "Content-Type", value: type },
      { name: "Content-Disposition", value: `attachment; filename="${path}"` },
    ],
    children: [],
    text: () => "",
  });
  const tree = () => {
    const root = buildMimeTree(ATTACHMENT);
    const pdf = root.children[1] as SieveMimePart;
    pdf.members = [
      member("docs/readme.txt", "text/plain"),
      member("docs/setup.exe", "application/x-msdownload"),
    ];
    return root;
  };
  const src = (req: string) => `require ["foreverypart", "mime", ${req}"vnd.sluice.quarantine"];
foreverypart {
  if header :mime :param "filename" :matches "Content-Disposition" "*.exe" { quarantine :reason "executable"; }
}`;

  it("shows files inside archives to foreverypart when required", () => {
    expect(
      runSieve(compileSieve(src('"vnd.sluice.archive", ')), fakeEnv(ATTACHMENT, { mime: tree() })).actions,
    ).toEqual([{ type: "quarantine", reason: "executable" }]);
  });

  it("keeps archives closed without the capability", () => {
    expect(runSieve(compileSieve(src("")), fakeEnv(ATTACHMENT, { mime: tree() })).actions).toEqual([]);
  });
});

describe("header :mime facts from Pigeonhole's test suite", () => {
  const msg = [
    "From: stephan@example.org",
    "To: nico@frop.example.com",
    "Subject:         Help",
    "X-A:     Text",
    "X-B: Text   ",
    "X-Caffeine: C8H10N4O2",
    "Comments:",
    "X-Multiline: This is a multi-line",
    " header body, which should be",
    " unfolded correctly.",
    "",
    "Text",
    "",
  ].join("\r\n");
  const yes = (test: string) =>
    run(`require ["mime", "foreverypart"]; foreverypart { if ${test} { discard; } }`, msg).actions.length ===
    1;

  it("strips leading and trailing white space and unfolds", () => {
    expect(yes('header :mime :anychild :is "x-a" "Text"')).toBe(true);
    expect(yes('header :mime :anychild :is "x-b" "Text"')).toBe(true);
    expect(yes('header :mime :anychild :is "subject" "Help"')).toBe(true);
    expect(
      yes(
        'header :mime :anychild :is "x-multiline" "This is a multi-line header body, which should be unfolded correctly."',
      ),
    ).toBe(true);
  });

  it("matches the empty key the way the header test does", () => {
    expect(yes('header :mime :anychild :is "X-Caffeine" ""')).toBe(false);
    expect(yes('header :mime :anychild :contains "X-Caffeine" ""')).toBe(true);
    expect(yes('header :mime :anychild :is "comments" ""')).toBe(true);
    expect(yes('header :mime :anychild :contains "X-Nonsense" ""')).toBe(false);
  });

  it("never matches an invalid header name", () => {
    expect(yes('header :mime :anychild :contains "subject:" ""')).toBe(false);
    expect(yes('header :mime :anychild :contains "to!" ""')).toBe(false);
  });
});
