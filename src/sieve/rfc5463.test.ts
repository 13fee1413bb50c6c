// RFC 5463 ihave and error: blocks guarded by an unknown extension are not validated, a known one
// is usable inside its block without require, and error fails the script.
import { describe, expect, it } from "vitest";
import { compileSieve } from "./compile.ts";
import { SieveRuntimeError } from "./errors.ts";
import { firstError, run } from "../../test/helpers/sieve.ts";

describe("RFC 5463 ihave", () => {
  it("RFC 5463 example: use vacation only where it exists", () => {
    const src = `require ["ihave", "fileinto"];
if ihave "vacation" {
  vacation :days 7 "I'm away until the 10th";
} else {
  fileinto "INBOX.unanswered";
}`;
    expect(run(src).actions).toEqual([{ type: "fileinto", folder: "INBOX.unanswered", copy: false }]);
  });

  it("a known extension is available inside its ihave block", () => {
    const src = 'require "ihave"; if ihave ["imap4flags", "fileinto"] { addflag "\\\\Seen"; fileinto "x"; }';
    expect(run(src).actions).toEqual([{ type: "fileinto", folder: "x", copy: false, flags: ["\\Seen"] }]);
    // ... but only inside it.
    expect(firstError('require "ihave"; if ihave "fileinto" { keep; } fileinto "x";')).toMatch(
      /requires extension "fileinto"/,
    );
  });

  it("still validates the else branch, elsif blocks and tests other than a direct ihave", () => {
    expect(firstError('require "ihave"; if ihave "nope" { keep; } else { nope; }')).toMatch(
      /unknown command "nope"/,
    );
    expect(firstError('require "ihave"; if anyof (ihave "nope", true) { nope; }')).toMatch(
      /unknown command "nope"/,
    );
    expect(firstError('require "ihave"; if ihave "nope" { nope }')).toMatch(/expected ";"/);
  });

  it("answers at run time for computed names", () => {
    const src = `require ["ihave", "variables", "fileinto"]; set "x" "fileinto";
if ihave "\${x}" { keep; } if ihave "x-\${x}" { discard; }`;
    expect(run(src).actions).toEqual([{ type: "keep" }]);
  });

  it("needs require", () => {
    expect(firstError('if ihave "fileinto" { keep; }')).toMatch(/requires extension "ihave"/);
  });
});

describe("RFC 5463 error", () => {
  it("fails the script with the author's message", () => {
    const script = 'require ["ihave", "fileinto"];\nfileinto "x";\nerror "policy script is not finished";';
    expect(() => run(script)).toThrow(SieveRuntimeError);
    expect(() => run(script)).toThrow("3:1: error: policy script is not finished");
  });

  it("needs ihave", () => {
    expect(() => compileSieve('error "x";')).toThrow(/requires extension "ihave"/);
  });
});
