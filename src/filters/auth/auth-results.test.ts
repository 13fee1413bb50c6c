// The Authentication-Results builder (RFC 8601): authserv-id recognition, clause formatting
// and quoting, a value another parser reads back, and the edits that remove exactly the
// fields claiming our authserv-id while foreign ones keep their place.
import { describe, expect, it } from "vitest";
import { createRequire } from "node:module";
import { parseHeaderSection } from "../../message/headers.ts";
import { applyEdits } from "../../message/rewrite.ts";
import { authResultsEdits, authResultsValue, authservIdOf, resultClauses } from "./auth-results.ts";
import type { AuthOutcome } from "./verify.ts";

// mailauth's own header parser, as a receiving MTA would read our field.
const parseAuthHeader = createRequire(import.meta.url)("mailauth/lib/parse-dkim-headers.js") as (
  line: string,
) => { parsed: Record<string, { value?: string; comment?: string } | { value?: string }[] | string> };

const outcome = (o: Partial<AuthOutcome> = {}): AuthOutcome => ({
  spfMailFrom: { result: "pass", identity: "alice@bank.example", domain: "bank.example", comment: "ok" },
  spfHelo: null,
  dkim: [],
  arc: { result: "none", instance: 0, hops: [], comment: "" },
  dmarc: {
    result: "none",
    fromDomain: "",
    policy: null,
    testing: false,
    record: null,
    comment: "no DMARC record",
  },
  senderId: null,
  ...o,
});

describe("authservIdOf", () => {
  it("reads the first token, without comments, quotes, version or case", () => {
    expect(authservIdOf("mx.example.net; spf=pass")).toBe("mx.example.net");
    expect(authservIdOf(" (forged) MX.Example.NET 1; dkim=pass")).toBe("mx.example.net");
    expect(authservIdOf('"mx.example.net"; none')).toBe("mx.example.net");
    expect(authservIdOf("mx.example.net;\r\n\tdkim=pass")).toBe("mx.example.net");
    expect(authservIdOf("mx.example.net")).toBe("mx.example.net");
    expect(authservIdOf("mx.example.net.evil; spf=pass")).toBe("mx.example.net.evil");
  });
});

describe("resultClauses and authResultsValue", () => {
  it("writes one clause per method in a stable order, with properties and sanitised comments", () => {
    const o = outcome({
      spfHelo: { result: "none", identity: "mail.bank.example", domain: "mail.bank.example", comment: "" },
      dkim: [
        {
          result: "pass",
          domain: "bank.example",
          selector: "s1",
          algorithm: "rsa-sha256",
          identity: "@bank.example",
          b: "AbCdEfGh",
          aligned: true,
          comment: "ignored on pass",
        },
        {
          result: "fail",
          domain: "list.example",
          selector: "k",
          algorithm: "ed25519-sha256",
          identity: "",
          b: "",
          aligned: false,
          comment: "body hash (bh) did not verify\r\ninjected: yes",
        },
      ],
      arc: { result: "pass", instance: 2, hops: [], comment: "" },
      dmarc: {
        result: "fail",
        fromDomain: "bank.example",
        policy: "reject",
        testing: true,
        record: "v=DMARC1",
        comment: "",
      },
    });
    expect(resultClauses(o, { senderId: false })).toEqual([
      "spf=pass (ok) smtp.mailfrom=alice@bank.example",
      "spf=none smtp.helo=mail.bank.example",
      "dkim=pass header.d=bank.example header.i=@bank.example header.s=s1 header.a=rsa-sha256 header.b=AbCdEfGh",
      "dkim=fail (body hash bh did not verify injected: yes) header.d=list.example header.s=k header.a=ed25519-sha256",
      "arc=pass (i=2)",
      "dmarc=fail (p=reject t=y) header.from=bank.example",
    ]);
  });

  it("quotes values that are not tokens, and says dkim=none without signatures", () => {
    const o = outcome({
      spfMailFrom: {
        result: "softfail",
        identity: '"odd local"@bank.example',
        domain: "bank.example",
        comment: "",
      },
    });
    const c = resultClauses(o, { senderId: false });
    expect(c[0]).toBe('spf=softfail smtp.mailfrom="\\"odd local\\"@bank.example"');
    expect(c).toContain("dkim=none");
    expect(c.at(-1)).toBe("dmarc=none (no DMARC record)");
  });

  it("caps a comment at 200 characters", () => {
    const o = outcome({
      spfMailFrom: { result: "fail", identity: "a@b.example", domain: "b.example", comment: "x".repeat(500) },
    });
    expect(resultClauses(o, { senderId: false })[0]).toBe(
      `spf=fail (${"x".repeat(200)}) smtp.mailfrom=a@b.example`,
    );
  });

  it("builds a folded value that an RFC 8601 parser reads back", () => {
    const o = outcome({
      dkim: [
        {
          result: "pass",
          domain: "bank.example",
          selector: "s1",
          algorithm: "rsa-sha256",
          identity: "",
          b: "",
          aligned: true,
          comment: "",
        },
      ],
      dmarc: {
        result: "pass",
        fromDomain: "bank.example",
        policy: "none",
        testing: false,
        record: "",
        comment: "",
      },
    });
    const value = authResultsValue("mx.example.net", resultClauses(o, { senderId: false }));
    expect(value).toMatch(/^mx\.example\.net;\r\n\tspf=pass/);
    expect(value.split("\r\n").every((l, i) => i === 0 || l.startsWith("\t"))).toBe(true);
    const p = parseAuthHeader(`Authentication-Results: ${value}`).parsed;
    expect(p.value).toBe("mx.example.net");
    expect((p.spf as { value: string }).value).toBe("pass");
    expect((p.dkim as { value: string }[])[0]!.value).toBe("pass");
    expect((p.dmarc as { value: string; comment: string }).value).toBe("pass");
    expect((p.dmarc as { comment: string }).comment).toBe("p=none");
  });
});

describe("authResultsEdits", () => {
  const head = (...lines: string[]) => parseHeaderSection(Buffer.from(lines.map((l) => `${l}\r\n`).join("")));

  it("deletes exactly the fields claiming our authserv-id, highest index first", () => {
    const h = head(
      "Authentication-Results: relay.one.example; spf=pass",
      "Authentication-Results: mx.example.net; dkim=pass header.d=forged.example",
      "Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000",
      "Authentication-Results: relay.two.example; dkim=fail",
      "Authentication-Results: (sneaky) MX.EXAMPLE.NET; dmarc=pass",
      "Subject: s",
    );
    const edits = authResultsEdits(h, "mx.example.net", "mx.example.net; none");
    expect(edits).toEqual([
      { op: "delete", name: "Authentication-Results", index: 4 },
      { op: "delete", name: "Authentication-Results", index: 2 },
      { op: "add", name: "Authentication-Results", value: "mx.example.net; none", top: true },
    ]);
    const out = applyEdits(h, edits).fields.map((f) => f.raw.toString().trim());
    expect(out).toEqual([
      "Authentication-Results: mx.example.net; none",
      "Authentication-Results: relay.one.example; spf=pass",
      "Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000",
      "Authentication-Results: relay.two.example; dkim=fail",
      "Subject: s",
    ]);
  });

  it("only adds when nothing claims our id (a look-alike id is foreign)", () => {
    const h = head("Authentication-Results: mx.example.net.evil; spf=pass", "Subject: s");
    expect(authResultsEdits(h, "mx.example.net", "v")).toEqual([
      { op: "add", name: "Authentication-Results", value: "v", top: true },
    ]);
  });
});
