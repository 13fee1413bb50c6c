// The hold_options filter on real Transactions: who counts as external, which To/Cc rewrites
// happen (only over K, names and quoted commas handled), attachments-only holds, supervisor Bcc.
import { describe, it, expect } from "vitest";
import pino from "pino";
import { Transaction, DEFAULT_INTAKE } from "../../message/transaction.ts";
import { emptyEnvelope } from "../../message/envelope.ts";
import { applyEdits } from "../../message/rewrite.ts";
import type { FilterContext } from "../../pipeline/types.ts";
import { headerAddresses, holdOptionsFilter, isInternal } from "./hold-options.ts";
import { lookalikeOf, skeleton } from "./lookalike.ts";

async function tx(raw: string, rcpts: string[], auth: string | null = "alice@example.com") {
  const env = emptyEnvelope("submission");
  env.auth = auth;
  env.mailFrom = { address: "alice@example.com", params: {} };
  env.recipients = rcpts.map((address) => ({ address, params: {} }));
  const t = new Transaction(env, DEFAULT_INTAKE);
  const w = t.writer();
  await w.write(Buffer.from(raw));
  return w.end();
}

function ctx(t: Transaction, options: unknown, known: string[] = []): FilterContext {
  return {
    history: { sentBefore: async (_s, r) => known.includes(r) },
    stage: "data",
    envelope: t.envelope,
    tx: t,
    recipients: [],
    options: holdOptionsFilter.parseOptions(options),
    earlier: [],
    earlierFor: () => [],
    signal: new AbortController().signal,
    log: pino({ level: "silent" }),
  };
}

const base = { internal_domains: ["example.com"] };
const head =
  "From: alice@example.com\r\nTo: One <one@x.org>, carol@example.com\r\nCc: two@y.org\r\nSubject: s\r\n\r\nhi\r\n";

describe("hold_options helpers", () => {
  it("parses address lists with display names, quoted commas and groups", () => {
    expect(headerAddresses('"Doe, John" <john@x.org>, b@y.org, Team: c@z.org, d@z.org;')).toEqual([
      "john@x.org",
      "b@y.org",
      "c@z.org",
      "d@z.org",
    ]);
  });
  it("treats subdomains of internal domains as internal", () => {
    expect(isInternal("a@mail.example.com", ["example.com"])).toBe(true);
    expect(isInternal("a@badexample.com", ["example.com"])).toBe(false);
  });
});

describe("hold_options filter", () => {
  it("holds the first message to an external address the sender never wrote to", async () => {
    const opts = { ...base, first_time_external: { minutes: 30 } };
    const t = await tx(head, ["one@x.org", "carol@example.com"]);
    const first = await holdOptionsFilter.check(ctx(t, opts));
    expect(first.action).toMatchObject({ type: "hold", minutes: 30 });
    expect(first.action?.reason).toMatch(/first message from alice@example\.com to one@x\.org/);
    const again = await holdOptionsFilter.check(ctx(t, opts, ["one@x.org"]));
    expect(again.action).toBeUndefined();
  });

  it("moves external To/Cc addresses to Bcc only when more than K are visible", async () => {
    const t = await tx(head, ["one@x.org", "two@y.org", "carol@example.com"]);
    const over = await holdOptionsFilter.check(ctx(t, { ...base, external_to_bcc_over: 1 }));
    const edited = applyEdits(t.headers, over.headers ?? []);
    expect(edited.get("To")).toBe("carol@example.com");
    expect(edited.get("Cc")).toBeNull();
    expect(over.symbols?.map((s) => s.name)).toEqual(["HOLD_TOCC_TO_BCC"]);
    const under = await holdOptionsFilter.check(ctx(t, { ...base, external_to_bcc_over: 2 }));
    expect(under.headers).toEqual([]);
  });

  it("writes undisclosed-recipients when no internal address is left in To", async () => {
    const t = await tx("From: alice@example.com\r\nTo: a@x.org, b@x.org\r\n\r\nhi\r\n", [
      "a@x.org",
      "b@x.org",
    ]);
    const r = await holdOptionsFilter.check(ctx(t, { ...base, external_to_bcc_over: 0 }));
    expect(applyEdits(t.headers, r.headers ?? []).get("To")).toBe("undisclosed-recipients:;");
  });

  it("holds external mail (optionally only with attachments), and only from authenticated senders", async () => {
    const plain = await tx(head, ["one@x.org"]);
    expect(
      (await holdOptionsFilter.check(ctx(plain, { ...base, hold_external: true, minutes: 9 }))).action,
    ).toMatchObject({
      type: "hold",
      minutes: 9,
    });
    expect(
      (
        await holdOptionsFilter.check(
          ctx(plain, { ...base, hold_external: true, only_with_attachments: true }),
        )
      ).action,
    ).toBeUndefined();
    const withFile = await tx(
      'From: alice@example.com\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="q.pdf"\r\n\r\nJVBER\r\n--b--\r\n',
      ["one@x.org"],
    );
    expect(
      (
        await holdOptionsFilter.check(
          ctx(withFile, { ...base, hold_external: true, only_with_attachments: true }),
        )
      ).action?.type,
    ).toBe("hold");
    const internalOnly = await tx(head, ["carol@example.com"]);
    expect(
      (await holdOptionsFilter.check(ctx(internalOnly, { ...base, hold_external: true }))).action,
    ).toBeUndefined();
    const anonymous = await tx(head, ["one@x.org"], null);
    expect(await holdOptionsFilter.check(ctx(anonymous, { ...base, hold_external: true }))).toEqual({});
  });

  it("Bccs the supervisor on mail it does not hold", async () => {
    const t = await tx(head, ["carol@example.com"]);
    const r = await holdOptionsFilter.check(
      ctx(t, { ...base, hold_external: true, supervisor_bcc: "Boss@example.com" }),
    );
    expect(r.action).toEqual({ type: "bcc", address: "boss@example.com" });
    expect(() => holdOptionsFilter.parseOptions({ minutes: 0 })).toThrow(/^minutes: /);
  });
});

describe("look-alike domains", () => {
  it("folds homoglyphs and small typos onto known domains, never the domain itself", () => {
    const known = ["example.com", "partner.co.jp"];
    expect(lookalikeOf("examp1e.com", known)).toBe("example.com");
    expect(lookalikeOf("exarnple.com", known)).toBe("example.com");
    expect(lookalikeOf("xn--exmple-4nf.com", known)).toBe("example.com"); // Cyrillic а
    expect(lookalikeOf("partner.co.jb", known)).toBe("partner.co.jp");
    expect(lookalikeOf("example.com", known)).toBeNull();
    expect(lookalikeOf("elsewhere.org", known)).toBeNull();
    expect(skeleton("RN-0.com")).toBe("mo.com");
  });

  it("holds with a reason naming both domains", async () => {
    const t = await tx(head, ["ceo@examp1e.com"]);
    const r = await holdOptionsFilter.check(ctx(t, { ...base, lookalike: { domains: ["partner.co.jp"] } }));
    expect(r.action).toMatchObject({
      type: "hold",
      reason: "look-alike domain: examp1e.com resembles example.com (recipient ceo@examp1e.com)",
    });
    expect(r.symbols?.map((s) => s.name)).toEqual(["HOLD_LOOKALIKE_DOMAIN"]);
    const fine = await tx(head, ["a@elsewhere.org"]);
    expect((await holdOptionsFilter.check(ctx(fine, { ...base, lookalike: {} }))).action).toBeUndefined();
  });
});
