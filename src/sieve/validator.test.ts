// Every validator error, with the exact "line:column: message" a script author sees.
import { describe, expect, it } from "vitest";
import { compileSieve } from "./compile.ts";
import { SieveCompileError } from "./errors.ts";
import { DEFAULT_REGISTRY } from "./registry.ts";
import { compileErrors, firstError } from "../../test/helpers/sieve.ts";

describe("validator errors", () => {
  const cases: [string, string][] = [
    ["frobnicate;", '1:1: unknown command "frobnicate"'],
    ["if frobnicate { keep; }", '1:4: unknown test "frobnicate"'],
    ["if keep { }", '1:4: "keep" is a command, not a test'],
    ['header :is "a" "b";', '1:1: "header" is a test, not a command'],
    ['fileinto "x";', '1:1: command "fileinto" requires extension "fileinto" (add require "fileinto")'],
    [
      'require "fileinto";\nfileinto :copy "x";',
      '2:10: tag ":copy" requires extension "copy" (add require "copy")',
    ],
    ['if header :regex "a" "b" { }', '1:11: tag ":regex" requires extension "regex" (add require "regex")'],
    [
      'if envelope "to" "a" { }',
      '1:4: test "envelope" requires extension "envelope" (add require "envelope")',
    ],
    [
      'if header :comparator "i;ascii-numeric" "a" "1" { }',
      '1:11: comparator "i;ascii-numeric" requires extension "comparator-i;ascii-numeric"',
    ],
    ['require ["fileinto", "vacation-seconds"];', '1:22: unknown extension "vacation-seconds" in require'],
    ['keep;\nrequire "fileinto";', '2:1: "require" is only allowed at the start of the script'],
    ['if true { require "fileinto"; }', '1:11: "require" is only allowed at the start of the script'],
    ["elsif true { keep; }", '1:1: "elsif" must follow "if" or "elsif"'],
    ["if true { } else { } else { }", '1:22: "else" must follow "if" or "elsif"'],
    ["keep; else { }", '1:7: "else" must follow "if" or "elsif"'],
    ['keep "x";', '1:6: too many arguments for command "keep" (expects no positional arguments)'],
    [
      'require "fileinto"; fileinto;',
      '1:21: command "fileinto" expects <folder: string>, got 0 positional argument(s)',
    ],
    ['require "fileinto"; fileinto 5;', '1:30: expected string for argument "folder" of command "fileinto"'],
    [
      'require "fileinto"; fileinto ["a", "b"];',
      '1:30: expected a single string for argument "folder" of command "fileinto", not a list',
    ],
    ['if size :over "1" { }', '1:15: expected number for tag ":over"'],
    ["if size 1 { }", '1:9: too many arguments for test "size" (expects no positional arguments)'],
    ["if size { }", '1:4: test "size" needs ":over <limit>" or ":under <limit>"'],
    ['if header :frob "a" "b" { }', '1:11: unknown tag ":frob" for test "header"'],
    ['if header :is :is "a" "b" { }', '1:15: tag ":is" given twice for test "header"'],
    ['if header :is :contains "a" "b" { }', '1:15: tag ":contains" conflicts with ":is" for test "header"'],
    ['if header "a" "b" :comparator { }', '1:19: expected string after tag ":comparator"'],
    [
      'require "relational"; if header :value "bigger" "a" "b" { }',
      '1:40: ":value" needs a relation: one of gt, ge, lt, le, eq, ne',
    ],
    ['if header :comparator "i;klingon" "a" "b" { }', '1:23: unknown comparator "i;klingon"'],
    [
      'require "comparator-i;ascii-numeric"; if header :contains :comparator "i;ascii-numeric" "a" "1" { }',
      '1:49: comparator "i;ascii-numeric" does not support ":contains"',
    ],
    ['require "regex"; if header :regex "a" "(unclosed" { }', '1:39: invalid regular expression "(unclosed"'],
    ['require "variables"; set "1abc" "x";', '1:26: invalid variable name "1abc" for "set"'],
    ['require "variables"; set :quoteregex "a" "x";', '1:26: tag ":quoteregex" requires extension "regex"'],
    [
      'require "variables"; set :lower :upper "a" "x";',
      '1:33: tag ":upper" conflicts with ":lower" for command "set"',
    ],
    ["if { keep; }", '1:1: command "if" needs exactly one test'],
    ["if (true, false) { }", '1:1: command "if" needs exactly one test (not a test list)'],
    ["if allof true { }", '1:4: test "allof" needs a test list "( ... )"'],
    ["if not (true, true) { }", '1:4: test "not" needs exactly one test (not a test list)'],
    ["keep { }", '1:1: command "keep" does not take a block'],
    ["if true;", '1:1: command "if" needs a block "{ ... }"'],
    ["if true { } else true { }", '1:18: command "else" does not take a test'],
    ["if true true { }", '1:9: test "true" does not take a test'],
    [
      'require "envelope"; if envelope "sender" "a" { }',
      '1:33: unknown envelope part "sender" (expected "from", "to" or "auth")',
    ],
    ['require "date"; if date "date" "fortnight" "1" { }', '1:32: unknown date part "fortnight"'],
    [
      'require "date"; if currentdate :zone "CET" "hour" "1" { }',
      '1:38: invalid time zone "CET" (expected +hhmm or -hhmm)',
    ],
    ['require "index"; if header :last "a" "b" { }', '1:28: ":last" needs ":index"'],
    ['require "index"; if header :index 0 "a" "b" { }', '1:28: ":index" counts from 1'],
    ['if header :index 1 "a" "b" { }', '1:11: tag ":index" requires extension "index" (add require "index")'],
    ['require "editheader"; addheader "Bad Name" "x";', '1:33: invalid header field name "Bad Name"'],
    [
      `require "editheader"; addheader "X-A" "${"a".repeat(2049)}";`,
      "1:39: header value is too large (2049 bytes, at most 2048)",
    ],
    ['require "vnd.sluice.hold"; hold :minutes 0;', '1:42: ":minutes" must be 1..10080'],
    [
      'require "vnd.sluice.notify"; notify_template :to "postmaster" "t";',
      '1:50: unknown notify target "postmaster" (expected sender, recipient, admin)',
    ],
    [
      'require "vnd.sluice.notify"; notify_template "../etc/passwd";',
      '1:46: invalid template name "../etc/passwd"',
    ],
    [
      'require ["vnd.sluice.symbols", "relational"]; if symbol :count "gt" "X" { }',
      '1:57: test "symbol" does not support ":count"',
    ],
    [
      'require ["body", "relational"]; if body :count "gt" "1" { }',
      '1:41: test "body" does not support ":count"',
    ],
    [
      'redirect "not an address";',
      `1:10: redirect address "not an address" is not valid: no domain (expecting '@')`,
    ],
    [
      'require "encoded-character"; keep; if header :is "a" "${unicode:110000}" { }',
      "1:54: invalid code point",
    ],
    ['if address "" "b" { }', '1:12: header "" does not contain addresses'],
    [
      'if address :domain ["from", "Subject"] "b" { }',
      '1:29: header "Subject" does not contain addresses (use the header test)',
    ],
    [
      'if header :list "from" "tag:x" { }',
      '1:11: tag ":list" requires extension "extlists" (add require "extlists")',
    ],
  ];

  it.each(cases)("%s", (src, expected) => {
    expect(firstError(src)).toContain(expected);
  });

  it("warns (does not refuse) invalid constant header names, as Pigeonhole does", () => {
    const warnings = (src: string) =>
      compileSieve(src).warnings.map((w) => `${w.line}:${w.column}: ${w.message}`);
    expect(warnings('if header :is ["subject", "x y"] "b" { }')).toEqual([
      '1:27: invalid header name "x y": this test never matches it',
    ]);
    expect(warnings('if exists "a:b" { }')).toEqual([
      '1:11: invalid header name "a:b": this test never matches it',
    ]);
    expect(warnings('if header "subject" "b" { }')).toEqual([]);
  });

  it("warns about protected editheader fields (the edit is skipped), as Pigeonhole does", () => {
    const warnings = (src: string) =>
      compileSieve(src).warnings.map((w) => `${w.line}:${w.column}: ${w.message}`);
    expect(warnings('require "editheader"; addheader "Received" "x";')).toEqual([
      '1:33: header "Received" is protected and cannot be added; the edit will be skipped',
    ]);
    expect(warnings('require "editheader"; deleteheader "auto-submitted";')).toEqual([
      '1:36: header "auto-submitted" is protected and cannot be deleted; the edit will be skipped',
    ]);
  });

  it("suggests close names for misspellings", () => {
    expect(firstError('require "fileinot";')).toBe(
      '1:9: unknown extension "fileinot" in require (did you mean "fileinto"?)',
    );
    expect(firstError("dicsard;")).toBe('1:1: unknown command "dicsard" (did you mean "discard"?)');
    expect(firstError('if heder "a" "b" { }')).toBe('1:4: unknown test "heder" (did you mean "header"?)');
    expect(firstError('if header :contain "a" "b" { }')).toBe(
      '1:11: unknown tag ":contain" for test "header" (did you mean ":contains"?)',
    );
    expect(firstError("xyzzy;")).toBe('1:1: unknown command "xyzzy"');
  });

  it("rejects unknown external lists when the caller knows the lists", () => {
    const src = 'require "extlists"; if address :list "from" ["tag:known", "tag:unknown"] { }';
    expect(firstError(src, { knownLists: (n) => n === "tag:known" })).toBe(
      '1:59: unknown external list "tag:unknown"',
    );
    expect(() => compileSieve(src)).not.toThrow();
  });

  it("reports several errors at once, in source order", () => {
    const errors = compileErrors(
      'require ["bogus"];\nfileinto "x";\nif header :is :matches "a" "b" { keep; }\nstop;\nfoo;',
    );
    expect(errors.map((e) => `${e.line}:${e.column}`)).toEqual(["1:10", "2:1", "3:15", "5:1"]);
  });

  it("prefixes the script name in the error message", () => {
    try {
      compileSieve("keep\nstop;", { name: "tenant-a/policy.sieve" });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(SieveCompileError);
      expect((err as Error).message).toBe(
        'tenant-a/policy.sieve:2:1: expected ";" after command "keep", found identifier "stop"',
      );
    }
  });

  it("rejects scripts longer than the limit", () => {
    expect(firstError("keep;".repeat(100), { limits: { maxScriptLength: 100 } })).toContain("limit is 100");
  });

  it("accepts every advertised capability in require", () => {
    const caps = [...DEFAULT_REGISTRY.capabilities];
    expect(caps).toEqual(
      expect.arrayContaining(["fileinto", "imap4flags", "vnd.sluice.hold", "comparator-i;ascii-numeric"]),
    );
    expect(caps).toHaveLength(34);
    // extracttext is the one that cannot be required alone (RFC 5703 5).
    const alone = caps.filter((c) => c !== "extracttext");
    for (const cap of alone) expect(() => compileSieve(`require "${cap}";`)).not.toThrow();
    expect(() => compileSieve('require "extracttext";')).toThrow(
      /extension "extracttext" cannot be used without "variables" and "foreverypart"/,
    );
    expect(() => compileSieve(`require ${JSON.stringify(caps)}; keep;`)).not.toThrow();
  });

  it("accepts valid shapes", () => {
    const ok = [
      'require ["spamtestplus", "relational", "comparator-i;ascii-numeric"]; if spamtest :percent :value "gt" :comparator "i;ascii-numeric" "50" { discard; }',
      'require ["comparator-i;octet"]; if header :contains :comparator "i;octet" "subject" "X" { keep; }',
      'require "editheader"; deleteheader :index 1 :last "X-A"; deleteheader :matches "X-B" ["*a*", "b"];',
      'require ["date", "index"]; if date :index 2 :last :originalzone "received" "hour" "09" { stop; }',
      'if header :is ["a", "b"] ["c"] { keep; } elsif true { stop; } elsif false { } else { discard; }',
      "if size :under 1M { keep; }",
      'require "VARIABLES"; set "A" "b";',
    ];
    for (const src of ok) expect(() => compileSieve(src)).not.toThrow();
  });
});
