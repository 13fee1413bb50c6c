// Examples from RFC 5233, 5235, 5173, 3894, 5429, 5183, 6134 and draft-ietf-sieve-regex.
import { describe, expect, it } from "vitest";
import type { SieveAction } from "./actions.ts";
import { compileSieve } from "./compile.ts";
import { fakeEnv } from "./environment.fake.ts";
import { runSieve } from "./index.ts";
import { run } from "../../test/helpers/sieve.ts";

const msg = (headers: string[], body = "body\r\n"): string => headers.join("\r\n") + "\r\n\r\n" + body;
const names = (actions: SieveAction[]): string[] =>
  actions.map((a) => (a.type === "fileinto" ? a.folder : a.type === "redirect" ? `->${a.address}` : a.type));

describe("RFC 5233 subaddress", () => {
  const src = `require ["envelope", "subaddress", "fileinto"];
    if envelope :user "to" "postmaster" { fileinto "inbox.postmaster"; stop; }
    if envelope :detail "to" "mta-filters" { fileinto "inbox.ietf-mta-filters"; }
    if envelope :detail "to" "foo" { redirect "ken@example.net"; }`;
  it.each([
    ["postmaster@example.com", ["inbox.postmaster"]],
    ["postmaster+x@example.com", ["inbox.postmaster"]],
    ["ken+mta-filters@example.com", ["inbox.ietf-mta-filters"]],
    ["ken+foo@example.com", ["->ken@example.net"]],
    ["ken@example.com", []],
  ])("envelope to %s", (to, expected) => {
    expect(names(run(src, msg(["Subject: x"]), { to }).actions)).toEqual(expected);
  });
  it(":detail is empty after a bare separator and absent without one", () => {
    const t = 'require ["subaddress"]; if address :detail "to" "" { discard; }';
    expect(run(t, msg(["To: ken+@example.com"])).actions).toHaveLength(1);
    expect(run(t, msg(["To: ken@example.com"])).actions).toHaveLength(0);
  });
});

describe("RFC 5235 spamtest, spamtestplus, virustest", () => {
  const spam = `require ["spamtest", "fileinto", "relational", "comparator-i;ascii-numeric"];
    if spamtest :value "eq" :comparator "i;ascii-numeric" "0" { fileinto "INBOX.unclassified"; }
    elsif spamtest :value "ge" :comparator "i;ascii-numeric" "3" { fileinto "INBOX.spam-trap"; }`;
  it("spamtest example", () => {
    expect(names(run(spam, msg([]), { spamScore: null }).actions)).toEqual(["INBOX.unclassified"]);
    expect(names(run(spam, msg([]), { spamScore: 2 }).actions)).toEqual([]);
    expect(names(run(spam, msg([]), { spamScore: 7 }).actions)).toEqual(["INBOX.spam-trap"]);
  });
  const plus = `require ["spamtestplus", "fileinto", "relational", "comparator-i;ascii-numeric"];
    if spamtest :value "eq" :comparator "i;ascii-numeric" "0" { fileinto "INBOX.unclassified"; }
    elsif spamtest :percent :value "eq" :comparator "i;ascii-numeric" "0" { fileinto "INBOX.not-spam"; }
    elsif spamtest :percent :value "lt" :comparator "i;ascii-numeric" "37" { fileinto "INBOX.spam-trap"; }
    else { discard; }`;
  it("spamtestplus example", () => {
    expect(names(run(plus, msg([]), { spamScore: null }).actions)).toEqual(["INBOX.unclassified"]);
    expect(names(run(plus, msg([]), { spamScore: 1, spamPercent: 0 }).actions)).toEqual(["INBOX.not-spam"]);
    expect(names(run(plus, msg([]), { spamScore: 4, spamPercent: 30 }).actions)).toEqual(["INBOX.spam-trap"]);
    expect(names(run(plus, msg([]), { spamScore: 9, spamPercent: 90 }).actions)).toEqual(["discard"]);
  });
  it(":percent of an untested message has no value (:count eq 0)", () => {
    const t = `require ["spamtestplus", "relational", "comparator-i;ascii-numeric"];
      if spamtest :percent :count "eq" :comparator "i;ascii-numeric" "0" { discard; }`;
    expect(run(t, msg([]), { spamPercent: null }).actions).toHaveLength(1);
    expect(run(t, msg([]), { spamPercent: 50 }).actions).toHaveLength(0);
  });
  it("virustest example", () => {
    const src = `require ["virustest", "fileinto", "relational", "comparator-i;ascii-numeric"];
      if virustest :value "eq" :comparator "i;ascii-numeric" "0" { fileinto "INBOX.unclassified"; }
      if virustest :value "eq" :comparator "i;ascii-numeric" "4" { fileinto "INBOX.quarantine"; }
      elsif virustest :value "eq" :comparator "i;ascii-numeric" "5" { discard; }`;
    expect(names(run(src, msg([]), { virusStatus: null }).actions)).toEqual(["INBOX.unclassified"]);
    expect(names(run(src, msg([]), { virusStatus: 4 }).actions)).toEqual(["INBOX.quarantine"]);
    expect(names(run(src, msg([]), { virusStatus: 5 }).actions)).toEqual(["discard"]);
    expect(names(run(src, msg([]), { virusStatus: 1 }).actions)).toEqual([]);
  });
});

describe("RFC 5173 body", () => {
  const mime = msg(
    ["From: a@b.c", "Content-Type: multipart/mixed; boundary=XX"],
    [
      "preamble",
      "--XX",
      "Content-Type: text/plain",
      "",
      "Launch coordinates follow. The project schedule slipped.",
      "--XX",
      "Content-Type: audio/mpeg",
      "Content-Transfer-Encoding: base64",
      "",
      Buffer.from("ID3 fake mp3").toString("base64"),
      "--XX--",
      "",
    ].join("\r\n"),
  );
  it(":raw sees the undecoded body", () => {
    expect(
      run('require "body"; if body :raw :contains "MAKE MONEY FAST" { discard; }', msg([], "make money fast"))
        .actions,
    ).toHaveLength(1);
    expect(
      run('require "body"; if body :raw :contains "Content-Type: audio/mpeg" { discard; }', mime).actions,
    ).toHaveLength(1);
  });
  it(":content picks parts by type", () => {
    const src = `require ["body", "fileinto"];
      if body :content "text" :contains ["missile", "coordinates"] { fileinto "secrets"; }
      if body :content "audio" :contains "" { fileinto "jukebox"; }
      if body :content "audio/mpeg" :contains "ID3" { fileinto "decoded"; }
      if body :content "image" :contains "" { fileinto "photos"; }`;
    expect(names(run(src, mime).actions)).toEqual(["secrets", "jukebox", "decoded"]);
  });
  it("asks the environment once per transform and content-type list", () => {
    const calls: string[] = [];
    const env = fakeEnv(mime);
    const body = env.body.bind(env);
    env.body = (t, types) => {
      calls.push(`${t}:${(types ?? []).join(",")}`);
      return body(t, types);
    };
    const src = `require "body";
      if body :contains "a" { } if body :contains "b" { } if body :raw :contains "c" { }
      if body :content "text" :contains "d" { } if body :content "TEXT" :contains "e" { }`;
    runSieve(compileSieve(src), env);
    expect(calls).toEqual(["text:", "raw:", "content:text"]);
  });
  it(":text (the default) sees only text parts", () => {
    const src = `require ["body", "fileinto"];
      if body :text :contains "project schedule" { fileinto "project/schedule"; }
      if body :contains "ID3" { fileinto "wrong"; }`;
    expect(names(run(src, mime).actions)).toEqual(["project/schedule"]);
  });
});

describe("RFC 3894 copy", () => {
  it("fileinto :copy and redirect :copy keep the implicit keep", () => {
    const r = run(
      'require ["copy", "fileinto"]; fileinto :copy "incoming"; redirect :copy "other@example.net";',
      msg([]),
    );
    expect(r.actions).toEqual([
      { type: "fileinto", folder: "incoming", copy: true },
      { type: "redirect", address: "other@example.net", copy: true },
    ]);
    expect(r.implicitKeep).toBe(true);
  });
});

describe("RFC 5429 reject and ereject", () => {
  it("reject with a multi-line reason cancels the implicit keep", () => {
    const src = `require ["reject"];
if header :contains "from" "coyote@desert.example.org" {
   reject text:
I am not taking mail from you, and I don't
want your birdseed, either!
.
   ;
}`;
    const r = run(src, msg(["From: coyote@desert.example.org"]));
    expect(r).toMatchObject({
      actions: [
        {
          type: "reject",
          reason: "I am not taking mail from you, and I don't\r\nwant your birdseed, either!\r\n",
        },
      ],
      implicitKeep: false,
    });
  });
  it("ereject", () => {
    const r = run(
      'require "ereject"; if address :is "from" "spam@example.com" { ereject "go away"; }',
      msg(["From: spam@example.com"]),
    );
    expect(r.actions).toEqual([{ type: "ereject", reason: "go away" }]);
  });
  it("section 2.2 example: reject big messages", () => {
    const src = `require ["reject"];
if size :over 100K {
    reject text:
Your message is to big. If you want to send me a big attachment,
put it on a public web site and send me an URL.
.
    ;
}`;
    expect(run(src, msg([], "x".repeat(200 * 1024))).actions).toEqual([
      {
        type: "reject",
        reason:
          "Your message is to big. If you want to send me a big attachment,\r\nput it on a public web site and send me an URL.\r\n",
      },
    ]);
    expect(run(src, msg([], "small")).actions).toEqual([]);
  });
  it("section 2.5 example: ereject certain spam, file suspect mail", () => {
    const src = `require ["ereject", "spamtest", "fileinto", "comparator-i;ascii-numeric", "relational"];
if spamtest :value "ge" :comparator "i;ascii-numeric" "6" {
    ereject text:
AntiSpam engine thinks your message is spam.
It is therefore being refused.
Please call 1-900-PAY-US if you want to reach us.
.
    ;
} elsif spamtest :value "ge" :comparator "i;ascii-numeric" "4" {
    fileinto "Suspect";
}`;
    expect(names(run(src, msg([]), { spamScore: 8 }).actions)).toEqual(["ereject"]);
    expect(names(run(src, msg([]), { spamScore: 5 }).actions)).toEqual(["Suspect"]);
    expect(names(run(src, msg([]), { spamScore: 1 }).actions)).toEqual([]);
  });
  it("2.4: more than one reject is an error", () => {
    expect(() => run('require ["reject", "ereject"]; reject "a"; ereject "b";', msg([]))).toThrow(
      /only one reject or ereject/,
    );
    expect(() => run('require "reject"; reject "a"; reject "a";', msg([]))).toThrow(/only one reject/);
  });
  it("reject cannot be combined with keep, fileinto or redirect", () => {
    expect(() => run('require "reject"; keep; reject "no";', msg([]))).toThrow(
      /reject cannot be combined with keep/,
    );
    expect(() => run('require ["reject", "fileinto"]; reject "no"; fileinto "x";', msg([]))).toThrow(
      /fileinto/,
    );
    expect(run('require "reject"; discard; reject "no";', msg([])).actions.map((a) => a.type)).toEqual([
      "discard",
      "reject",
    ]);
  });
});

describe("RFC 5183 environment", () => {
  const env = {
    domain: "example.net",
    host: "mx1.example.net",
    phase: "during",
    "remote-ip": "192.0.2.1",
    name: "Sluice",
  };
  it("matches items and fails for unknown ones", () => {
    const src = `require ["environment", "fileinto"];
      if environment :matches "remote-host" "*.example.com" { fileinto "wrong"; }
      if environment :is "phase" "during" { fileinto "smtp-time"; }
      if environment :contains "host" "mx1" { fileinto "mx1"; }
      if environment :is "vnd.unknown" "" { fileinto "wrong2"; }`;
    expect(names(run(src, msg([]), { environment: env }).actions)).toEqual(["smtp-time", "mx1"]);
  });
});

describe("RFC 6134 extlists", () => {
  const lists = { "tag:example.com,2010-05-28:mylist": ["alice@example.com", "bob@example.com"] };
  it("section 2.3 example: list members' submissions are redirected to the list", () => {
    const src = `require ["extlists", "envelope", "subaddress"];
      if allof (envelope :detail "to" "mylist", header :list "from" "tag:example.com,2010-05-28:mylist") {
        redirect :list "tag:example.com,2010-05-28:mylist";
      }`;
    expect(run(src, msg(["From: Bob@Example.com"]), { to: "me+mylist@example.com", lists }).actions).toEqual([
      { type: "redirect_list", list: "tag:example.com,2010-05-28:mylist", copy: false },
    ]);
    expect(run(src, msg(["From: eve@example.com"]), { to: "me+mylist@example.com", lists }).actions).toEqual(
      [],
    );
  });
  it("address :list and valid_ext_list", () => {
    const src = `require ["extlists", "fileinto"];
      if address :domain :list "from" "tag:domains" { fileinto "known-domain"; }
      if valid_ext_list "tag:domains" { fileinto "valid"; }
      if valid_ext_list ["tag:domains", "tag:nope"] { fileinto "wrong"; }`;
    const r = run(src, msg(["From: x@corp.example"]), { lists: { "tag:domains": ["corp.example"] } });
    expect(names(r.actions)).toEqual(["known-domain", "valid"]);
  });
});

describe("draft-ietf-sieve-regex", () => {
  it("spam catcher example with POSIX classes and :comparator i;octet", () => {
    const src = `require ["regex", "fileinto"];
      if anyof (not address :regex ["to", "cc", "bcc"] "me(\\\\+.*)?@company\\\\.com",
                header :regex :comparator "i;octet" "subject" "^[^[:lower:]]+$") {
        fileinto "spam";
      }`;
    expect(names(run(src, msg(["To: me+lists@company.com", "Subject: Hello"])).actions)).toEqual([]);
    expect(names(run(src, msg(["To: me@company.com", "Subject: MAKE MONEY"])).actions)).toEqual(["spam"]);
    expect(names(run(src, msg(["To: you@company.com", "Subject: Hello"])).actions)).toEqual(["spam"]);
  });
  it("match variables from groups", () => {
    const src = `require ["regex", "variables", "fileinto"];
      if header :regex "List-ID" "<(.*)@" { fileinto "lists.\${1}"; stop; }
      if header :regex "Subject" "^\\\\[(.*)\\\\] (.*)$" { fileinto "\${1}"; stop; }`;
    expect(names(run(src, msg(["List-ID: Sieve <sieve@ietf.org>"])).actions)).toEqual(["lists.sieve"]);
    expect(names(run(src, msg(["Subject: [acme-users] [fwd] version 1.0 is out"])).actions)).toEqual([
      "acme-users] [fwd",
    ]);
  });
  it("set :quoteregex escapes regex syntax so a value matches literally", () => {
    const src = `require ["regex", "variables", "fileinto"];
      set :quoteregex "lit" "a.b*(c)[d]{2}|^$+?\\\\";
      fileinto "\${lit}";
      if header :regex "subject" "^\${lit}$" { fileinto "literal-match"; }
      if header :regex "subject" "^a.b" { fileinto "pattern-match"; }`;
    expect(names(run(src, msg(["Subject: a.b*(c)[d]{2}|^$+?\\"])).actions)).toEqual([
      "a\\.b\\*\\(c\\)\\[d\\]\\{2\\}\\|\\^\\$\\+\\?\\\\",
      "literal-match",
      "pattern-match",
    ]);
    expect(names(run(src, msg(["Subject: aXb*(c)[d]{2}|^$+?\\"])).actions)).toHaveLength(2);
  });
  it("i;ascii-casemap makes the regex case-insensitive", () => {
    expect(
      run('require "regex"; if header :regex "subject" "^hello" { discard; }', msg(["Subject: HELLO"]))
        .actions,
    ).toHaveLength(1);
    expect(
      run(
        'require "regex"; if header :regex :comparator "i;octet" "subject" "^hello" { discard; }',
        msg(["Subject: HELLO"]),
      ).actions,
    ).toHaveLength(0);
  });
});

describe("encoded-character (RFC 5228 2.4.2.4)", () => {
  it("decodes hex and unicode sequences only when required", () => {
    const r = run(
      'require ["encoded-character", "fileinto"]; fileinto "${hex:42 43}${unicode:263A}";',
      msg([]),
    );
    expect(r.actions).toEqual([{ type: "fileinto", folder: "BC\u263a", copy: false }]);
    expect(run('require "fileinto"; fileinto "${hex:42}";', msg([])).actions).toEqual([
      { type: "fileinto", folder: "${hex:42}", copy: false },
    ]);
  });
});
