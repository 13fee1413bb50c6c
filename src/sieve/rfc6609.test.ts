// RFC 6609 include: the RFC's examples (global variables across scripts), :once, :optional, return,
// locations, loops and depth, and errors that name the included script and its line.
import { describe, expect, it } from "vitest";
import { compileSieve, type IncludeResolver } from "./compile.ts";
import { SieveCompileError } from "./errors.ts";
import { fakeEnv } from "./environment.fake.ts";
import { runSieve } from "./index.ts";

function scripts(personal: Record<string, string>, global: Record<string, string> = {}): IncludeResolver {
  return {
    resolve(location, name) {
      const set = location === "global" ? global : personal;
      const source = set[name];
      return source === undefined
        ? null
        : { id: `${location}/${name}`, name: `${location}/${name}.sieve`, source };
    },
  };
}

const message = (subject: string) =>
  `From: a@example.org\r\nTo: b@example.net\r\nSubject: ${subject}\r\n\r\nbody\r\n`;

function run(main: string, include: IncludeResolver, subject = "hello") {
  return runSieve(compileSieve(main, { name: "main.sieve", include }), fakeEnv(message(subject)));
}

function compileError(main: string, include: IncludeResolver): SieveCompileError {
  try {
    compileSieve(main, { name: "main.sieve", include });
  } catch (err) {
    if (err instanceof SieveCompileError) return err;
    throw err;
  }
  throw new Error("compiled");
}

describe("RFC 6609 include", () => {
  it("RFC 6609 example: global variables shared with an included script", () => {
    const main = `require ["variables", "include", "relational", "fileinto"];
global "test";
global "test_mailbox";
set "test" "$$";
include "subject_tests";
set "test" "Make money";
include "subject_tests";
if string :count "eq" "\${test_mailbox}" "1" {
    fileinto "\${test_mailbox}";
    stop;
}`;
    const inc = scripts({
      subject_tests: `require ["variables", "include"];
global ["test", "test_mailbox"];
if header :contains "Subject" "\${test}" {
    set "test_mailbox" "spam-\${test}";
}`,
    });
    expect(run(main, inc, "Make money fast").actions).toEqual([
      { type: "fileinto", folder: "spam-Make money", copy: false },
    ]);
    expect(run(main, inc, "hello").actions).toEqual([]);
  });

  it("local variables stay local; global.NAME reaches globals without a declaration", () => {
    const main = `require ["variables", "include", "fileinto"];
set "local" "main";
set "global.shared" "from-main";
include "child";
fileinto "\${local}-\${global.shared}";`;
    const inc = scripts({
      child: `require ["variables", "include"];
set "local" "child";
set "global.shared" "\${global.shared}+child";`,
    });
    expect(run(main, inc).actions).toEqual([
      { type: "fileinto", folder: "main-from-main+child", copy: false },
    ]);
  });

  it("runs personal and global scripts of the same name from their own locations", () => {
    const main = `require ["include", "fileinto"]; include :personal "a"; include :global "a";`;
    const inc = scripts(
      { a: 'require "fileinto"; fileinto "personal";' },
      { a: 'require "fileinto"; fileinto "global";' },
    );
    expect(run(main, inc).actions.map((a) => a.type === "fileinto" && a.folder)).toEqual([
      "personal",
      "global",
    ]);
  });

  it(":once includes a script only the first time; without it the script runs again", () => {
    const inc = scripts({
      count: `require ["variables", "include"]; global "n"; set "n" "\${n}x";`,
    });
    const main = (once: string) => `require ["variables", "include", "fileinto"]; global "n";
include ${once} "count"; include ${once} "count"; fileinto "\${n}";`;
    expect(run(main(""), inc).actions).toEqual([{ type: "fileinto", folder: "xx", copy: false }]);
    expect(run(main(":once"), inc).actions).toEqual([{ type: "fileinto", folder: "x", copy: false }]);
  });

  it("return ends the included script only; stop ends everything; return in the main script stops", () => {
    const inc = scripts({
      ret: 'require ["include", "fileinto"]; fileinto "a"; return; fileinto "b";',
      halt: 'require ["include", "fileinto"]; fileinto "c"; stop;',
    });
    const folders = (main: string) =>
      run(`require ["include", "fileinto"]; ${main}`, inc).actions.map(
        (a) => a.type === "fileinto" && a.folder,
      );
    expect(folders('include "ret"; fileinto "after";')).toEqual(["a", "after"]);
    expect(folders('include "halt"; fileinto "after";')).toEqual(["c"]);
    expect(folders('fileinto "x"; return; fileinto "y";')).toEqual(["x"]);
  });

  it(":optional skips a missing script; a missing required one is a compile error", () => {
    expect(run('require "include"; include :optional "missing"; keep;', scripts({})).actions).toEqual([
      { type: "keep" },
    ]);
    expect(compileError('require "include";\ninclude :personal "missing";', scripts({})).message).toBe(
      'main.sieve:2:19: included personal script "missing" does not exist',
    );
  });

  it("names the included file and line of an error in it", () => {
    const err = compileError(
      'require "include";\ninclude "broken";',
      scripts({ broken: 'require "fileinto";\nif true {\n  fileinto "a"\n}\n' }),
    );
    expect(err.message.split("\n")).toEqual([
      'main.sieve:2:9: included script "personal/broken.sieve" has errors',
      'personal/broken.sieve:4:1: expected ";" after command "fileinto", found "}"',
    ]);
  });

  it("refuses loops, variable names, bad names and too deep chains", () => {
    const loop = scripts({ a: 'require "include"; include "b";', b: 'require "include"; include "a";' });
    expect(compileError('require "include"; include "a";', loop).message).toMatch(/circular include of "a"/);
    expect(
      compileError('require ["include", "variables"]; set "n" "a"; include "${n}";', scripts({})).message,
    ).toMatch(/include needs a constant script name/);
    expect(compileError('require "include"; include "../etc/passwd";', scripts({})).message).toMatch(
      /invalid script name/,
    );
    const chain: Record<string, string> = {};
    for (let i = 0; i < 12; i++) chain[`s${i}`] = `require "include"; include "s${i + 1}";`;
    chain.s12 = "keep;";
    expect(compileError('require "include"; include "s0";', scripts(chain)).message).toMatch(
      /include nesting is deeper than 10 levels/,
    );
  });

  it("refuses include without configured locations, and :personal with :global", () => {
    expect(() => compileSieve('require "include"; include "a";')).toThrow(
      /no script locations are configured/,
    );
    expect(compileError('require "include"; include :personal :global "a";', scripts({})).message).toMatch(
      /conflicts with ":personal"/,
    );
  });

  it("global needs variables; set refuses unknown namespaces", () => {
    expect(() => compileSieve('require "include"; global "x";')).toThrow(/needs the "variables" extension/);
    expect(() => compileSieve('require "variables"; set "foo.x" "1";')).toThrow(/unknown namespace/);
    expect(() => compileSieve('require ["variables", "include"]; set "global.x" "1";')).not.toThrow();
  });
});

describe("include facts from Pigeonhole's test suite", () => {
  it("several scripts build one global value in order", () => {
    const main = `require ["include", "variables", "fileinto"];
global ["value1", "value2"];
global ["value3", "value4"];
global "result";
set "value1" "Works";
set "value2" "fine.";
set "value3" "Yeah";
set "value4" "it does.";
include "variables-included1";
include "variables-included2";
fileinto "\${result}";`;
    const inc = scripts({
      "variables-included1":
        'require ["include", "variables"]; global ["value1", "value2", "result"]; set "result" "${value1} ${value2}";',
      "variables-included2":
        'require ["include", "variables"]; global ["value3", "value4", "result"]; set "result" "${result} ${value3} ${value4}";',
    });
    expect(run(main, inc).actions).toEqual([
      { type: "fileinto", folder: "Works fine. Yeah it does.", copy: false },
    ]);
  });

  it("a script included twice from different places is compiled once and runs twice", () => {
    const inc = scripts({
      a: 'require ["include"]; include "twice";',
      twice: 'require ["include", "variables"]; global "n"; set "n" "${n}+";',
    });
    const script = compileSieve(
      'require ["include", "variables", "fileinto"]; global "n"; include "a"; include "twice"; fileinto "${n}";',
      {
        include: inc,
      },
    );
    expect(script.units.size).toBe(2);
    expect(runSieve(script, fakeEnv(message("x"))).actions).toEqual([
      { type: "fileinto", folder: "++", copy: false },
    ]);
  });
});
