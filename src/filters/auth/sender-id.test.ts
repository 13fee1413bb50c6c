// Sender ID (RFC 4406/4407): PRA selection from the headers, spf2.0/pra records with the
// v=spf1 fallback, off by default, and how its results become symbols and
// Authentication-Results clauses. DNS is a fake zone that records every query.
import { describe, expect, it } from "vitest";
import { parseHeaderSection } from "../../message/headers.ts";
import { resultClauses } from "./auth-results.ts";
import { fakeZone, type Zone } from "./dns.fake.ts";
import { authOptionsSchema } from "./options.ts";
import { resultSymbols } from "./outcome.ts";
import { checkSenderId, praResolver, selectPra } from "./sender-id.ts";
import { verifyMessage } from "./verify.ts";

const hdrs = (...lines: string[]) => parseHeaderSection(Buffer.from(lines.map((l) => `${l}\r\n`).join("")));

describe("PRA selection (RFC 4407 section 2)", () => {
  it("takes From when nothing else is present", () => {
    expect(selectPra(hdrs("From: Alice <Alice@Example.ORG>", "To: b@x.example"))).toEqual({
      pra: "alice@example.org",
      header: "From",
    });
  });

  it("prefers Sender over From", () => {
    const h = hdrs("From: a@author.example", "Sender: list-owner@lists.example");
    expect(selectPra(h)).toMatchObject({ pra: "list-owner@lists.example", header: "Sender" });
  });

  it("prefers Resent-From over Sender and From", () => {
    const h = hdrs(
      "Resent-From: fwd@forwarder.example",
      "Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000",
      "Sender: s@sender.example",
      "From: a@author.example",
    );
    expect(selectPra(h)).toMatchObject({ pra: "fwd@forwarder.example", header: "Resent-From" });
  });

  it("prefers a Resent-Sender of the newest resent block over Resent-From", () => {
    const h = hdrs(
      "Resent-Sender: agent@forwarder.example",
      "Resent-From: boss@forwarder.example",
      "From: a@author.example",
    );
    expect(selectPra(h)).toMatchObject({ pra: "agent@forwarder.example", header: "Resent-Sender" });
  });

  it("ignores a Resent-Sender of an older block (a Received sits between it and the newest Resent-From)", () => {
    const h = hdrs(
      "Resent-From: newest@second.example",
      "Received: from x by y; Mon, 1 Jan 2024 00:00:00 +0000",
      "Resent-Sender: old@first.example",
      "From: a@author.example",
    );
    expect(selectPra(h)).toMatchObject({ pra: "newest@second.example", header: "Resent-From" });
  });

  it("skips empty fields and ignores display names and comments", () => {
    const h = hdrs(
      "Resent-From: ",
      'Sender: "Mallory <mallory@evil.example>" (not this one: x@y.example) <real@ok.example>',
      "From: a@author.example",
    );
    expect(selectPra(h)).toMatchObject({ pra: "real@ok.example", header: "Sender" });
  });

  it("has no PRA with several Sender fields, several From fields, or several mailboxes in From", () => {
    expect(selectPra(hdrs("Sender: a@x.example", "Sender: b@y.example", "From: c@z.example")).pra).toBeNull();
    expect(selectPra(hdrs("From: a@x.example", "From: b@y.example")).pra).toBeNull();
    const multi = selectPra(hdrs("From: a@x.example, b@y.example"));
    expect(multi).toMatchObject({ pra: null, header: "From" });
    expect(multi.why).toMatch(/2 mailboxes/);
    expect(selectPra(hdrs("To: a@x.example")).pra).toBeNull();
  });
});

describe("record selection (RFC 4406 section 3.4)", () => {
  const zone: Zone = {
    "both.example": [
      { type: "TXT", value: "v=spf1 ip4:192.0.2.0/24 -all" },
      { type: "TXT", value: "spf2.0/mfrom,pra ip4:198.51.100.0/24 -all" },
    ],
    "mfrom-only.example": [
      { type: "TXT", value: "spf2.0/mfrom -all" },
      { type: "TXT", value: "v=spf1 +all" },
    ],
    "a.example": [{ type: "A", value: "192.0.2.1" }],
  };
  const resolve = praResolver(fakeZone(zone).resolve);

  it("an spf2.0 record whose scope lists pra wins, presented as v=spf1", async () => {
    expect(await resolve("both.example", "TXT")).toEqual([["v=spf1 ip4:198.51.100.0/24 -all"]]);
  });

  it("spf2.0 records without the pra scope are dropped, v=spf1 stands", async () => {
    expect(await resolve("mfrom-only.example", "TXT")).toEqual([["v=spf1 +all"]]);
  });

  it("other query types pass through unchanged", async () => {
    expect(await resolve("a.example", "A")).toEqual(["192.0.2.1"]);
  });
});

describe("checkSenderId against a zone", () => {
  const zone: Zone = {
    // spf2.0/pra authorises 198.51.100.0/24 only; v=spf1 authorises 192.0.2.0/24 only.
    "pra.example": [
      { type: "TXT", value: "v=spf1 ip4:192.0.2.0/24 -all" },
      { type: "TXT", value: "spf2.0/pra ip4:198.51.100.0/24 -all" },
    ],
    "legacy.example": [{ type: "TXT", value: "v=spf1 ip4:192.0.2.0/24 ~all" }],
    "broken.example": [{ type: "TXT", value: "spf2.0/pra ip4:198.51.100.0/24 bogus:x -all" }],
    "slow.example": [{ type: "TIMEOUT" }],
  };
  const check = (from: string, ip: string) => {
    const z = fakeZone(zone);
    return checkSenderId(hdrs(`From: ${from}`), {
      ip,
      helo: "mx.sender.example",
      mta: "mx.test",
      resolver: z.resolve,
    }).then((r) => ({ ...r, queries: z.queries }));
  };

  it("passes when the spf2.0/pra record lists the client", async () => {
    const r = await check("a@pra.example", "198.51.100.7");
    expect(r).toMatchObject({ result: "pass", pra: "a@pra.example", header: "From" });
  });

  it("uses the spf2.0/pra record, not v=spf1, when both exist", async () => {
    // v=spf1 would pass 192.0.2.5; the pra record does not list it.
    expect((await check("a@pra.example", "192.0.2.5")).result).toBe("fail");
  });

  it("falls back to v=spf1 when the domain has no spf2.0/pra record", async () => {
    expect((await check("a@legacy.example", "192.0.2.5")).result).toBe("pass");
    expect((await check("a@legacy.example", "203.0.113.9")).result).toBe("softfail");
  });

  it("gives none without any record, permerror for a broken one, temperror when DNS times out", async () => {
    expect((await check("a@nothing.example", "192.0.2.5")).result).toBe("none");
    expect((await check("a@broken.example", "198.51.100.7")).result).toBe("permerror");
    expect((await check("a@slow.example", "198.51.100.7")).result).toBe("temperror");
  });

  it("gives permerror without asking DNS when there is no PRA", async () => {
    const z = fakeZone(zone);
    const r = await checkSenderId(hdrs("From: a@pra.example, b@legacy.example"), {
      ip: "198.51.100.7",
      helo: null,
      mta: "mx.test",
      resolver: z.resolve,
    });
    expect(r).toMatchObject({ result: "permerror", pra: null });
    expect(z.queries).toEqual([]);
  });
});

describe("Sender ID in verification, symbols and Authentication-Results", () => {
  const message = Buffer.from(
    "Sender: agent@pra.example\r\nFrom: Boss <boss@legacy.example>\r\nTo: b@x.example\r\nSubject: s\r\n\r\nbody\r\n",
  );
  const zone: Zone = {
    "pra.example": [{ type: "TXT", value: "spf2.0/pra ip4:198.51.100.0/24 -all" }],
    "legacy.example": [{ type: "TXT", value: "v=spf1 -all" }],
  };
  const run = async (senderId: boolean) => {
    const z = fakeZone(zone);
    const o = await verifyMessage({
      message,
      headers: parseHeaderSection(message.subarray(0, message.indexOf("\r\n\r\n") + 2)),
      ip: "203.0.113.50",
      helo: "mx.sender.example",
      mailFrom: "",
      mta: "mx.test",
      resolver: z.resolve,
      senderId,
      spfHelo: false,
      minKeyBits: 1024,
    });
    return { o, queries: z.queries };
  };

  it("is off by default", () => {
    expect(authOptionsSchema.parse({}).sender_id).toBe(false);
  });

  it("is not evaluated (no PRA lookup) when off", async () => {
    const { o, queries } = await run(false);
    expect(o.senderId).toBeNull();
    expect(queries).not.toContain("TXT pra.example");
    expect(
      resultSymbols(o, false)
        .map((s) => s.name)
        .filter((n) => n.startsWith("SENDERID")),
    ).toEqual([]);
    expect(resultClauses(o, { senderId: false }).join(";")).not.toMatch(/sender-id/);
  });

  it("checks the Sender PRA when on and reports SENDERID_FAIL and a sender-id clause", async () => {
    const { o, queries } = await run(true);
    expect(queries).toContain("TXT pra.example");
    expect(o.senderId).toMatchObject({ result: "fail", pra: "agent@pra.example", header: "Sender" });
    const sym = resultSymbols(o, true).find((s) => s.name.startsWith("SENDERID"));
    expect(sym).toEqual({ name: "SENDERID_FAIL", score: 1.0, detail: "agent@pra.example" });
    expect(resultClauses(o, { senderId: true })).toContain("sender-id=fail header.sender=agent@pra.example");
    // A tenant with Sender ID off gets neither, even when another tenant's copy asked for it.
    expect(resultSymbols(o, false).some((s) => s.name.startsWith("SENDERID"))).toBe(false);
  });

  it("maps every Sender ID result onto a declared symbol", async () => {
    const { o } = await run(true);
    for (const result of ["pass", "fail", "softfail", "neutral", "none", "temperror", "permerror"] as const) {
      const names = resultSymbols({ ...o, senderId: { ...o.senderId!, result } }, true).map((s) => s.name);
      expect(names).toContain(`SENDERID_${result.toUpperCase()}`);
    }
  });
});
