// RFC 5435 enotify with the RFC 5436 mailto method: the RFCs' examples, compile-time checks of
// method URIs, :importance, :from and :options (as Pigeonhole makes them), the allow-list, the
// valid_notify_method and notify_method_capability tests, and :encodeurl.
import { describe, expect, it } from "vitest";
import { compileSieve } from "./compile.ts";
import { firstError, run } from "../../test/helpers/sieve.ts";

const FROM_BOSS = "From: boss@example.org\r\nTo: alm@example.com\r\nSubject: urgent\r\n\r\nx\r\n";
const LIST =
  "From: Tim <tim@example.net>\r\nTo: sievemailinglist@example.org\r\nSubject: Re: draft\r\n\r\nx\r\n";

describe("RFC 5435 notify (mailto)", () => {
  const example = `require ["enotify", "fileinto", "variables"];
if header :contains "from" "boss@example.org" {
    notify :importance "1" :message "This is probably very important" "mailto:alm@example.com";
    # Don't send any further notifications
    stop;
}
if header :contains "to" "sievemailinglist@example.org" {
    # :matches is used to get the value of the Subject header
    if header :matches "Subject" "*" { set "subject" "\${1}"; }
    # :matches is used to get the value of the From header
    if header :matches "From" "*" { set "from" "\${1}"; }
    notify :importance "3" :message "[SIEVE] \${from}: \${subject}" "mailto:alm@example.com";
    fileinto "INBOX.sieve";
}`;

  it("RFC 5435 9 example: one notification per matching rule", () => {
    expect(run(example, FROM_BOSS).actions).toEqual([
      {
        type: "enotify",
        method: "mailto:alm@example.com",
        recipients: ["alm@example.com"],
        from: null,
        importance: "1",
        options: [],
        message: "This is probably very important",
        headers: [],
        body: null,
      },
    ]);
    const res = run(example, LIST);
    expect(res.actions).toMatchObject([
      { type: "enotify", importance: "3", message: "[SIEVE] Tim <tim@example.net>: Re: draft" },
      { type: "fileinto", folder: "INBOX.sieve" },
    ]);
    // A notification does not cancel the implicit keep.
    expect(run(example, FROM_BOSS).implicitKeep).toBe(true);
  });

  it("RFC 5435 6 example: :encodeurl keeps a variable from adding URI parameters", () => {
    const src = `require ["enotify", "variables"];
set :encodeurl "body_param" "Safe body&evil=evilbody";
notify "mailto:tim@example.com?body=\${body_param}";`;
    expect(run(src).actions).toMatchObject([
      { type: "enotify", body: "Safe body&evil=evilbody", headers: [] },
    ]);
    expect(() => compileSieve('require "variables"; set :encodeurl "a" "b";')).toThrow(
      /requires extension "enotify"/,
    );
  });

  it("RFC 5436: recipients and header fields from the URI, reserved fields ignored with a warning", () => {
    const src =
      'require "enotify"; notify "mailto:a@example.org?cc=c@example.org&subject=Hi%20there&from=x@y.example";';
    expect(run(src).actions).toMatchObject([
      { recipients: ["a@example.org", "c@example.org"], headers: [{ name: "subject", value: "Hi there" }] },
    ]);
    expect(compileSieve(src).warnings.map((w) => w.message)).toEqual([
      'mailto URI: ignored reserved header field "from"',
    ]);
  });

  it("refuses at compile time what Pigeonhole refuses", () => {
    const bad: [string, RegExp][] = [
      ['notify "xmpp:a@example.org";', /unsupported notification method "xmpp"/],
      ['notify "not a uri";', /no scheme/],
      ['notify "mailto:a@@b";', /invalid recipient/],
      ['notify "mailto:a@example.org,b@example.org";', /invalid character ","/],
      ['notify "mailto:a@example.org?subject=%ZZ";', /invalid % encoding/],
      ['notify "mailto:a@example.org?subject=a%0D%0Ab";', /invalid header field body/],
      ['notify "mailto:a@example.org?x%20y=1";', /invalid header field name/],
      ['notify :importance "4" "mailto:a@example.org";', /":importance" must be "1", "2" or "3"/],
      [
        'notify :from "not an address" "mailto:a@example.org";',
        /":from" address "not an address" is invalid/,
      ],
      ['notify :options "xy" "mailto:a@example.org";', /invalid option "xy"/],
      ['notify :message "a";', /expects <method: string>/],
    ];
    for (const [src, re] of bad) expect(firstError(`require "enotify"; ${src}`), src).toMatch(re);
    expect(
      firstError(
        'require ["enotify", "variables"]; set "i" "1"; notify :importance "${i}" "mailto:a@b.example";',
      ),
    ).toMatch(/":importance" must be/);
  });

  it("accepts what Pigeonhole accepts, with warnings where it warns", () => {
    const warn = (src: string) => compileSieve(`require "enotify"; ${src}`).warnings.map((w) => w.message);
    expect(warn('notify :from "Me <me@example.org>" "mailto:Me%20%3Cme@example.org%3E";')).toEqual([]);
    expect(warn('notify "mailto:";')).toEqual(["mailto URI: the URI names no recipients"]);
    expect(warn('notify :options ["x=y"] "mailto:a@example.org";')).toEqual([
      'the mailto method takes no options; "x=y" is ignored',
    ]);
  });

  it("keeps notifications inside the allow-list: compile error for constants, dropped at run time", () => {
    const allowed = (a: string) => a.endsWith("@example.com");
    expect(() =>
      compileSieve('require "enotify"; notify "mailto:ops@example.com";', { notifyAllowed: allowed }),
    ).not.toThrow();
    expect(() =>
      compileSieve('require "enotify"; notify "mailto:x@relay.example";', { notifyAllowed: allowed }),
    ).toThrow(/x@relay.example is not in the allowed notification domains/);
    const computed = `require ["enotify", "variables"]; set "to" "x@relay.example";
notify "mailto:\${to}"; if valid_notify_method "mailto:\${to}" { discard; }`;
    const res = run(computed, undefined, {}, undefined, { notifyAllowed: allowed });
    expect(res.actions).toMatchObject([{ type: "enotify", recipients: [], refused: ["x@relay.example"] }]);
  });

  it("valid_notify_method and notify_method_capability", () => {
    const yes = (test: string) => run(`require "enotify"; if ${test} { discard; }`).actions.length === 1;
    expect(yes('valid_notify_method "mailto:a@example.org"')).toBe(true);
    expect(yes('valid_notify_method ["mailto:a@example.org", "xmpp:a@example.org"]')).toBe(false);
    expect(yes('valid_notify_method "mailto:"')).toBe(false);
    expect(yes('notify_method_capability "mailto:a@example.org" "Online" "maybe"')).toBe(true);
    expect(yes('notify_method_capability "mailto:a@example.org" "online" "yes"')).toBe(false);
    expect(yes('notify_method_capability "xmpp:a@example.org" "online" "maybe"')).toBe(false);
  });

  it("Pigeonhole's facts: :encodeurl output, invalid URIs, the per-run limit of 10 notifications", () => {
    const enc = run(
      'require ["enotify", "variables", "editheader"]; set :encodeurl "u" "\\\\frop\\\\&fruts/^@"; addheader "X-U" "${u}";',
    );
    expect(enc.headerEdits).toEqual([
      { op: "add", name: "X-U", value: "%5Cfrop%5C%26fruts%2F%5E%40", last: false },
    ]);
    const valid = (uri: string) =>
      run(`require "enotify"; if valid_notify_method "${uri}" { discard; }`).actions.length === 1;
    expect(valid("mailto:stephan@rename-it.nl?header:=frop")).toBe(false);
    expect(valid("mailto:stephan%23rename-it.nl")).toBe(false);
    expect(valid("mailto:stephan@rename-it.nl?to=nico%23vestingbar.nl")).toBe(false);
    expect(valid("mailto:stephan@rename-it.nl")).toBe(true);
    const many = (n: number) =>
      'require "enotify"; ' +
      Array.from({ length: n }, (_, i) => `notify "mailto:u${i}@example.org";`).join(" ");
    expect(run(many(10)).actions).toHaveLength(10);
    expect(() => run(many(11))).toThrow(/maxNotifications/);
  });

  it("sends the same notification once", () => {
    const src = 'require "enotify"; notify "mailto:a@example.org"; notify "mailto:a@example.org";';
    expect(run(src).actions).toHaveLength(1);
  });
});
