// RFC 5229 (variables) examples: expansion rules, set modifiers, match variables, the string test.
import { describe, expect, it } from "vitest";
import { run } from "../../test/helpers/sieve.ts";

const msg = (headers: string[]): string => headers.join("\r\n") + "\r\n\r\nbody\r\n";

/** Runs a script and reports what it files into, which is how these tests observe variables. */
function folders(src: string, message = msg(["Subject: x"])): string[] {
  return run(`require ["variables", "fileinto"];\n${src}`, message).actions.flatMap((a) =>
    a.type === "fileinto" ? [a.folder] : [],
  );
}

describe("RFC 5229 variables", () => {
  it("3 expansion: names are case-insensitive, unknown variables are empty, bad references stay", () => {
    expect(folders('set "company" "ACME"; fileinto "${full}|${company}|${COMPANY}";')).toEqual([
      "|ACME|ACME",
    ]);
    expect(folders('set "company" "ACME"; fileinto "&%${}!|${doh!}";')).toEqual(["&%${}!|${doh!}"]);
    expect(folders('set "company" "ACME"; fileinto "${BAD${Company}";')).toEqual(["${BADACME"]);
    expect(folders('set "company" "ACME"; fileinto "${President, ${Company} Inc.}";')).toEqual([
      "${President, ACME Inc.}",
    ]);
  });

  it("3 the vacation text example expands inside text: strings", () => {
    const src = `set "honorific" "Mr";
set "first_name" "Wile";
set "last_name" "Coyote";
set "vacation" text:
Dear \${HONORIFIC} \${last_name},
I'm out, please leave a message after the meep.
.
;
fileinto "\${vacation}";`;
    expect(folders(src)).toEqual(["Dear Mr Coyote,\r\nI'm out, please leave a message after the meep.\r\n"]);
  });

  it("4.1 set modifiers in precedence order", () => {
    const src = `set "a" "juMBlEd lETteRS";
      set :length "b" "\${a}"; fileinto "\${b}";
      set :lower "b" "\${a}"; fileinto "\${b}";
      set :upperfirst "b" "\${a}"; fileinto "\${b}";
      set :upperfirst :lower "b" "\${a}"; fileinto "\${b}";
      set :quotewildcard "b" "Rock*"; fileinto "\${b}";
      set :upper :length "c" "abc"; fileinto "\${c}";
      set :lowerfirst "d" "ABC"; fileinto "\${d}";`;
    expect(folders(src)).toEqual([
      "15",
      "jumbled letters",
      "JuMBlEd lETteRS",
      "Jumbled letters",
      "Rock\\*",
      "3",
      "aBC",
    ]);
  });

  it("3.2 match variables from :matches, with the RFC's three examples", () => {
    const base = `if header :matches "List-ID" "*<*@*" { fileinto "INBOX.lists.\${2}"; stop; }
if header :matches "Subject" "[*] *" { fileinto "INBOX.lists.\${1}"; stop; }
if address :matches ["To", "Cc"] ["coyote@**.com", "wile@**.com"] {
  fileinto "INBOX.business.\${2}|\${1}|\${0}"; stop;
} else { fileinto "none:\${1}"; }
if anyof (true, address :domain :matches "To" "*.com") { stop; }`;
    expect(folders(base, msg(["List-ID: Sieve list <sieve@ietf.org>"]))).toEqual(["INBOX.lists.sieve"]);
    expect(folders(base, msg(["List-ID: no brackets sieve@ietf.org"]))).toEqual(["none:"]);
    expect(folders(base, msg(["Subject: [acme-users] [fwd] version 1.0 is out"]))).toEqual([
      "INBOX.lists.acme-users",
    ]);
    expect(folders(base, msg(["To: coyote@ACME.Example.COM"]))).toEqual([
      "INBOX.business.ACME.Example||coyote@ACME.Example.COM",
    ]);
    expect(folders(base, msg(["To: bugs@acme.org"]))).toEqual(["none:"]);
  });

  it("3.2 a failed match keeps the previous match variables; :is never sets them", () => {
    const src = `if header :matches "Subject" "*-*" { }
      if header :matches "Subject" "no*match" { }
      if header :is "Subject" "a-b" { }
      fileinto "\${1}/\${2}";`;
    expect(folders(src, msg(["Subject: a-b"]))).toEqual(["a/b"]);
  });

  it("5 string test, including :count ignoring empty strings", () => {
    const src = `set "state" "\${state} pending";
      if string :matches " \${state} " "* pending *" { fileinto "always"; }
      if string :is "\${unset}" "" { fileinto "empty"; }`;
    expect(folders(src)).toEqual(["always", "empty"]);
    const count = `if string :count "eq" ["a", "", "b"] "2" { fileinto "two"; }`;
    expect(run(`require ["variables", "fileinto", "relational"]; ${count}`).actions).toHaveLength(1);
  });

  it("match variable ${0} holds the whole value and unmatched digits are empty", () => {
    expect(
      folders(
        'if header :matches "Subject" "h?llo*" { fileinto "${0}|${1}|${2}|${3}"; }',
        msg(["Subject: hello world"]),
      ),
    ).toEqual(["hello world|e| world|"]);
  });
});
