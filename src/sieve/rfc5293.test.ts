// RFC 5293 (editheader): addheader/deleteheader, visibility to later tests, protected fields.
import { describe, expect, it } from "vitest";
import { run } from "../../test/helpers/sieve.ts";

const MESSAGE = [
  "Received: from a by b; Mon, 7 Apr 1997 10:00:00 +0000",
  "X-Sieve-Filtered: <kim@job.example.com>",
  "Subject: hello",
  "X-Spam: one",
  "X-Spam: two",
  "X-Spam: three",
  "Auto-Submitted: no",
  "",
  "body",
].join("\r\n");

describe("RFC 5293 editheader", () => {
  it("section 9 example: add a marker and redirect unless already marked", () => {
    const src = `require ["editheader"];
      if not header :contains "X-Sieve-Filtered" ["<kim@job.example.com>", "<kim@home.example.com>"] {
        addheader "X-Sieve-Filtered" "<kim@job.example.com>";
        redirect "kim@home.example.com";
      }`;
    expect(run(src, MESSAGE)).toMatchObject({ actions: [], headerEdits: [] });
    const fresh = run(src, "Subject: x\r\n\r\nbody");
    expect(fresh.headerEdits).toEqual([
      { op: "add", name: "X-Sieve-Filtered", value: "<kim@job.example.com>", last: false },
    ]);
    expect(fresh.actions).toEqual([{ type: "redirect", address: "kim@home.example.com", copy: false }]);
  });

  it("edits are visible to later tests, :last appends", () => {
    const src = `require ["editheader", "fileinto"];
      addheader :last "X-Note" "added";
      if header :is "X-Note" "added" { fileinto "seen"; }
      deleteheader "subject";
      if not exists "subject" { fileinto "gone"; }`;
    const r = run(src, MESSAGE);
    expect(r.actions.map((a) => (a.type === "fileinto" ? a.folder : a.type))).toEqual(["seen", "gone"]);
    expect(r.headerEdits).toEqual([
      { op: "add", name: "X-Note", value: "added", last: true },
      { op: "delete", name: "subject", occurrence: 1 },
    ]);
  });

  it("deleteheader by :index, :last and value patterns, bottom-up", () => {
    expect(run('require "editheader"; deleteheader :index 2 "X-Spam";', MESSAGE).headerEdits).toEqual([
      { op: "delete", name: "X-Spam", occurrence: 2 },
    ]);
    expect(run('require "editheader"; deleteheader :index 1 :last "X-Spam";', MESSAGE).headerEdits).toEqual([
      { op: "delete", name: "X-Spam", occurrence: 3 },
    ]);
    expect(run('require "editheader"; deleteheader :matches "X-Spam" "t*";', MESSAGE).headerEdits).toEqual([
      { op: "delete", name: "X-Spam", occurrence: 3 },
      { op: "delete", name: "X-Spam", occurrence: 2 },
    ]);
    expect(run('require "editheader"; deleteheader "X-Spam";', MESSAGE).headerEdits).toHaveLength(3);
  });

  it("folds line breaks in added values", () => {
    const r = run('require "editheader"; addheader "X-A" text:\nline1\nline2\n.\n;', MESSAGE);
    expect(r.headerEdits[0]).toMatchObject({ value: "line1 line2 " });
  });

  it("protected fields given through variables are left alone at run time", () => {
    const src = `require ["editheader", "variables"]; set "h" "Received"; set "a" "auto-submitted";
      deleteheader "\${h}"; deleteheader "\${a}"; addheader "\${h}" "forged";`;
    expect(run(src, MESSAGE).headerEdits).toEqual([]);
    expect(() =>
      run('require ["editheader", "variables"]; set "h" "a b"; addheader "${h}" "x";', MESSAGE),
    ).toThrow(/invalid header field name "a b"/);
  });
});
