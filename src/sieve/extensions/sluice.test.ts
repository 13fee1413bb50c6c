// Sluice gateway extensions: hold, quarantine, notify_template and the symbol test.
import { describe, expect, it } from "vitest";
import { run } from "../../../test/helpers/sieve.ts";

const MSG = "From: a@b.example\r\nTo: c@d.example\r\nSubject: hi\r\n\r\nbody\r\n";

describe("vnd.sluice extensions", () => {
  it("hold defaults to 5 minutes and keeps the implicit keep", () => {
    const r = run('require "vnd.sluice.hold"; hold :reason "check recipients";', MSG);
    expect(r).toMatchObject({
      actions: [{ type: "hold", minutes: 5, reason: "check recipients" }],
      implicitKeep: true,
    });
    expect(run('require "vnd.sluice.hold"; hold :minutes 30;', MSG).actions).toEqual([
      { type: "hold", minutes: 30, reason: "" },
    ]);
  });

  it("quarantine cancels the implicit keep", () => {
    expect(run('require "vnd.sluice.quarantine"; quarantine :reason "policy";', MSG)).toMatchObject({
      actions: [{ type: "quarantine", reason: "policy" }],
      implicitKeep: false,
    });
  });

  it("notify_template emits one action per role, default sender", () => {
    expect(run('require "vnd.sluice.notify"; notify_template "held";', MSG).actions).toEqual([
      { type: "notify", to: "sender", template: "held" },
    ]);
    expect(
      run('require "vnd.sluice.notify"; notify_template :to ["admin", "Recipient"] "t1";', MSG).actions,
    ).toEqual([
      { type: "notify", to: "admin", template: "t1" },
      { type: "notify", to: "recipient", template: "t1" },
    ]);
  });

  it("notify_template rejects unknown roles given at run time", () => {
    expect(() =>
      run('require ["vnd.sluice.notify", "variables"]; set "r" "boss"; notify_template :to "${r}" "t";', MSG),
    ).toThrow(/unknown notify target "boss"/);
  });

  it("symbol tests existence, :over/:under scores and match types", () => {
    const symbols = { BAYES_SPAM: 7.2, SPF_FAIL: 3, DKIM_VALID: -0.1 };
    const t = (test: string): boolean =>
      run(`require "vnd.sluice.symbols"; if ${test} { discard; }`, MSG, { symbols }).actions.length === 1;
    expect(t('symbol "SPF_FAIL"')).toBe(true);
    expect(t('symbol "spf_fail"')).toBe(true);
    expect(t('symbol :comparator "i;octet" "spf_fail"')).toBe(false);
    expect(t('symbol "RBL_HIT"')).toBe(false);
    expect(t('symbol :over 5 "BAYES_SPAM"')).toBe(true);
    expect(t('symbol :over 8 "BAYES_SPAM"')).toBe(false);
    expect(t('symbol :under 5 "SPF_FAIL"')).toBe(true);
    expect(t('symbol :under 3 "SPF_FAIL"')).toBe(false);
    expect(t('symbol :matches :over 2 "*_FAIL"')).toBe(true);
    expect(t('symbol :matches ["RBL_*", "URIBL_*"]')).toBe(false);
  });
});
