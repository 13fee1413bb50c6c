// Grammar of RFC 5228 8.2, error messages with positions, recovery and the nesting guard.
import { describe, expect, it } from "vitest";
import { parse } from "./parser.ts";

const opts = { maxNestingDepth: 32 };

describe("parse", () => {
  it("builds commands, arguments, tests and blocks", () => {
    const { commands, errors } = parse(
      'require ["fileinto"];\nif anyof (header :is "a" "b", not exists "c") { fileinto "x"; } else { keep; }',
      opts,
    );
    expect(errors).toEqual([]);
    expect(commands.map((c) => c.name)).toEqual(["require", "if", "else"]);
    const ifc = commands[1];
    expect(ifc?.tests[0]?.name).toBe("anyof");
    expect(ifc?.tests[0]?.testList).toBe(true);
    expect(ifc?.tests[0]?.tests.map((t) => t.name)).toEqual(["header", "not"]);
    expect(ifc?.tests[0]?.tests[0]?.args.map((a) => a.kind)).toEqual(["tag", "strings", "strings"]);
    expect(ifc?.block?.[0]?.name).toBe("fileinto");
    expect(commands[2]?.block?.[0]?.name).toBe("keep");
  });

  it("distinguishes a single string from a bracketed list", () => {
    const { commands } = parse('x "a" ["b"] ["c", "d"];', opts);
    const args = commands[0]?.args ?? [];
    expect(
      args.map((a) => (a.kind === "strings" ? [a.bracketed, a.values.map((v) => v.value)] : null)),
    ).toEqual([
      [false, ["a"]],
      [true, ["b"]],
      [true, ["c", "d"]],
    ]);
  });

  it("reports a missing semicolon at the offending token", () => {
    const { errors } = parse("if true {\n  keep\n}\n", opts);
    expect(errors).toEqual([{ line: 3, column: 1, message: 'expected ";" after command "keep", found "}"' }]);
  });

  it("asks for a block after if when something else follows", () => {
    const { errors } = parse("if true ]", opts);
    expect(errors[0]?.message).toBe('expected "{" after command "if", found "]"');
    expect([errors[0]?.line, errors[0]?.column]).toEqual([1, 9]);
  });

  it("recovers and reports several errors", () => {
    const { errors, commands } = parse(
      'discard ]\nkeep;\nfileinto ["a" "b"];\nif true { stop ) }\nstop;',
      opts,
    );
    expect(errors.map((e) => `${e.line}:${e.column}`)).toEqual(["1:9", "3:15", "4:16"]);
    // Recovery skips to the next ";" (swallowing "keep;"); inside a block it stops at the "}".
    expect(commands.map((c) => c.name)).toEqual(["if", "stop"]);
  });

  it.each([
    ["keep;\n}", 'unexpected "}" without matching "{"', 2, 1],
    ["if true { keep;", 'expected "}" before end of script', 1, 16],
    ["if allof (true; false) { }", 'expected "," or ")" in test list', 1, 15],
    ["if allof () { }", "expected test name in test list", 1, 11],
    ['x ["a",];', "expected string in string list", 1, 8],
    ["42;", "expected command name, found number 42", 1, 1],
  ])("error for %j", (src, message, line, column) => {
    const { errors } = parse(src, opts);
    expect(errors[0]?.message).toContain(message);
    expect([errors[0]?.line, errors[0]?.column]).toEqual([line, column]);
  });

  it("stops at the nesting limit instead of overflowing the stack", () => {
    const deep = "if true { ".repeat(40) + "keep;" + " }".repeat(40);
    const { errors } = parse(deep, { maxNestingDepth: 32 });
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toBe("nesting deeper than 32 levels");
    const tests = "if " + "not ".repeat(100000) + "true { keep; }";
    expect(parse(tests, opts).errors[0]?.message).toBe("nesting deeper than 32 levels");
  });

  it("reports lexer errors with their position", () => {
    expect(parse('keep;\n  "open', opts).errors).toEqual([
      { line: 2, column: 3, message: 'unterminated string, expected closing "\\""' },
    ]);
  });
});
