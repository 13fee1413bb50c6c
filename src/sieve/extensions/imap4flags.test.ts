// RFC 5232 imap4flags: flag commands, hasflag, :flags on keep/fileinto and the implicit keep's flags.
import { describe, expect, it } from "vitest";
import { firstError, run } from "../../../test/helpers/sieve.ts";
import { parseFlags } from "./imap4flags.ts";

const msg = (headers: string[], body = "body"): string => headers.join("\r\n") + "\r\n\r\n" + body;

describe("RFC 5232 imap4flags", () => {
  it("parseFlags splits on spaces and drops duplicates case-insensitively", () => {
    expect(parseFlags(["\\Seen  $Work", "\\seen", "", "$Big"])).toEqual(["\\Seen", "$Work", "$Big"]);
  });

  it("section 7 example 1: flags kept in a variable and given to fileinto", () => {
    const src = `require ["imap4flags", "fileinto", "variables"];
      if header :contains "from" "boss@frobnitzm.example.edu" {
        setflag "flagvar" "\\\\Flagged";
        fileinto :flags "\${flagvar}" "INBOX.From Boss";
      }
      if header :contains "Disposition-Notification-To" "mel@example.com" { addflag "flagvar" "$MDNRequired"; }
      if header :contains "from" "imap@cac.washington.example.edu" {
        removeflag "flagvar" "$MDNRequired";
        fileinto :flags "\${flagvar}" "INBOX.imap-list";
      }`;
    expect(run(src, msg(["From: boss@frobnitzm.example.edu"])).actions).toEqual([
      { type: "fileinto", folder: "INBOX.From Boss", copy: false, flags: ["\\Flagged"] },
    ]);
    const r = run(
      src,
      msg(["From: imap@cac.washington.example.edu", "Disposition-Notification-To: mel@example.com"]),
    );
    expect(r.actions).toEqual([{ type: "fileinto", folder: "INBOX.imap-list", copy: false, flags: [] }]);
  });

  it("section 7 example 2: the internal variable flags the implicit keep", () => {
    const src = `require "imap4flags";
      if size :over 1M { addflag "$Big"; }
      if header :is "From" "boss@company.example.com" { addflag "\\\\Flagged $Work"; }
      if header :contains "Subject" "unsubscribe" { removeflag "$Work"; }`;
    expect(run(src, msg(["From: boss@company.example.com"], "x".repeat(1_100_000)))).toMatchObject({
      actions: [],
      implicitKeep: true,
      implicitKeepFlags: ["$Big", "\\Flagged", "$Work"],
    });
    expect(
      run(src, msg(["From: boss@company.example.com", "Subject: please unsubscribe"])).implicitKeepFlags,
    ).toEqual(["\\Flagged"]);
  });

  it("keep and fileinto take the current internal flags unless :flags is given", () => {
    const src = `require ["imap4flags", "fileinto"];
      setflag "\\\\Seen"; keep; fileinto "a"; fileinto :flags ["$X", "$Y"] "b"; setflag ""; fileinto "c";`;
    expect(run(src, msg([])).actions).toEqual([
      { type: "keep", flags: ["\\Seen"] },
      { type: "fileinto", folder: "a", copy: false, flags: ["\\Seen"] },
      { type: "fileinto", folder: "b", copy: false, flags: ["$X", "$Y"] },
      { type: "fileinto", folder: "c", copy: false, flags: [] },
    ]);
  });

  it("hasflag on the internal variable and on named variables, with match types", () => {
    const t = (setup: string, test: string): boolean =>
      run(`require ["imap4flags", "variables", "relational"]; ${setup} if ${test} { discard; }`, msg([]))
        .actions.length === 1;
    expect(t('setflag "\\\\Seen $Junk";', 'hasflag "$junk"')).toBe(true);
    expect(t('setflag "\\\\Seen";', 'hasflag :comparator "i;octet" "\\\\seen"')).toBe(false);
    expect(t('setflag "\\\\Seen $Junk";', 'hasflag :count "eq" "2"')).toBe(true);
    expect(t('setflag "v" "$A $B";', 'hasflag ["v"] :matches "$*"')).toBe(true);
    expect(t('setflag "v" "$A";', 'hasflag "$A"')).toBe(false);
    expect(t('set "w" "$Work";', 'hasflag "w" "$work"')).toBe(true);
  });

  it("without imap4flags, actions carry no flags", () => {
    expect(run('require "fileinto"; keep; fileinto "x";', msg([]))).toEqual({
      actions: [{ type: "keep" }, { type: "fileinto", folder: "x", copy: false }],
      implicitKeep: false,
      headerEdits: [],
      steps: 2,
    });
  });

  it("validation", () => {
    expect(firstError('require "fileinto"; fileinto :flags "\\\\Seen" "x";')).toBe(
      '1:30: tag ":flags" requires extension "imap4flags" (add require "imap4flags")',
    );
    expect(firstError('require "imap4flags"; setflag "v" "\\\\Seen";')).toBe(
      '1:31: naming a flag variable requires extension "variables" (add require "variables")',
    );
    expect(firstError('require ["imap4flags", "variables"]; addflag "1x" "a";')).toBe(
      '1:46: invalid variable name "1x"',
    );
  });
});
