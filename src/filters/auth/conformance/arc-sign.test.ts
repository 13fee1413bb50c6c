// ValiMail ARC signing suite (17 cases) through arcSeal. The suite's b= values cannot be
// compared byte for byte: RSA signatures are deterministic only over identical header text,
// and mailauth writes its tags (and h=) in another order than the suite's generator. Each case
// therefore checks: a set is produced exactly when the suite expects one; every tag of the
// expected ARC-Seal and ARC-Message-Signature except b= is equal (h= as a set of fields); the
// ARC-Authentication-Results is equal up to folding; and the b= signatures we made verify
// against the scenario's key (the sealed message's chain validates, instance as expected).
import { createPublicKey, verify as verifySignature } from "node:crypto";
import { describe, expect, it } from "vitest";
import { fieldValueFolded, parseHeaderSection, unfold } from "../../../message/headers.ts";
import { authservIdOf } from "../auth-results.ts";
import { arcSeal } from "../arc-seal.ts";
import { generateDkimKey } from "../keygen.ts";
import { fakeZone } from "../dns.fake.ts";
import { verifyMessage } from "../verify.ts";
import { loadArcSigning, type ArcSigningCase } from "./arc-suite.ts";

const cases = loadArcSigning();

function tags(value: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of unfold(value).split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) out.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).replace(/\s+/g, ""));
  }
  return out;
}

/** RFC 6376 3.4.2 relaxed header canonicalization, written here independently of mailauth. */
function relaxed(name: string, value: string): string {
  const v = unfold(value)
    .replace(/[ \t]+/g, " ")
    .replace(/ $/, "")
    .replace(/^ /, "");
  return `${name.toLowerCase().trim()}:${v}`;
}

const withoutB = (value: string) => value.replace(/(^|;)(\s*b\s*=)[^;]*/, "$1$2");

type Field = { name: string; value: string };

/**
 * Check both b= values of the newest set with node:crypto: the ARC-Message-Signature over its
 * h= fields (RFC 6376 5.4.2 selection, bottom-up) and the ARC-Seal over every set in instance
 * order (RFC 8617 5.1.1). Independent of mailauth's verifier, so cv=fail sets are checked too.
 */
function checkSignatures(fields: Field[], publicTxt: string, instance: number): void {
  const p = /p=([A-Za-z0-9+/=\s]+)/.exec(publicTxt)![1]!.replace(/\s+/g, "");
  const pub = createPublicKey({ key: Buffer.from(p, "base64"), format: "der", type: "spki" });
  const of = (name: string, i: number) =>
    fields.find((f) => f.name.toLowerCase() === name && Number(tags(f.value).get("i")) === i)!;
  const ams = of("arc-message-signature", instance);
  const amsTags = tags(ams.value);
  const pool = [...fields];
  const lines: string[] = [];
  for (const h of amsTags.get("h")!.toLowerCase().split(":")) {
    for (let k = pool.length - 1; k >= 0; k--) {
      if (pool[k]!.name.toLowerCase() === h) {
        lines.push(relaxed(pool[k]!.name, pool[k]!.value) + "\r\n");
        pool.splice(k, 1);
        break;
      }
    }
  }
  lines.push(relaxed(ams.name, withoutB(ams.value)));
  const amsOk = verifySignature(
    "sha256",
    Buffer.from(lines.join("")),
    pub,
    Buffer.from(amsTags.get("b")!, "base64"),
  );
  expect(amsOk, "ARC-Message-Signature b= verifies").toBe(true);
  // A cv=fail seal covers its own set only (mailauth, as OpenARC): validators stop at a
  // cv=fail seal without checking it (RFC 8617 5.2), so nothing downstream depends on more.
  const cv = tags(of("arc-seal", instance).value).get("cv");
  const chain: string[] = [];
  for (let i = cv === "fail" ? instance : 1; i <= instance; i++) {
    const as = of("arc-seal", i);
    chain.push(relaxed("arc-authentication-results", of("arc-authentication-results", i).value) + "\r\n");
    chain.push(relaxed("arc-message-signature", of("arc-message-signature", i).value) + "\r\n");
    chain.push(i === instance ? relaxed(as.name, withoutB(as.value)) : relaxed(as.name, as.value) + "\r\n");
  }
  const asB = tags(of("arc-seal", instance).value).get("b")!;
  expect(
    verifySignature("sha256", Buffer.from(chain.join("")), pub, Buffer.from(asB, "base64")),
    "ARC-Seal b= verifies",
  ).toBe(true);
}

const squash = (s: string) =>
  unfold(s)
    .replace(/\s+/g, " ")
    .replace(/\s*;\s*/g, "; ")
    .trim();

/** What the suite's signer records: the srv-id's Authentication-Results, merged into one. */
function authResultsOf(c: ArcSigningCase): { value: string; cv: "none" | "pass" | "fail" } {
  const head = c.message.subarray(0, c.message.indexOf("\r\n\r\n") + 2);
  const parts = parseHeaderSection(head)
    .all("Authentication-Results")
    .map((f) => fieldValueFolded(f))
    .filter((v) => authservIdOf(v) === c.srvId.toLowerCase())
    .map((v) =>
      v
        .slice(v.indexOf(";") + 1)
        .trim()
        .replace(/;\s*$/, ""),
    )
    .filter(Boolean);
  const value = `${c.srvId}; ${parts.join(";\r\n ")}`;
  const arc = /(?:^|;)\s*arc=(pass|fail|none)\b/i.exec(unfold(value))?.[1]?.toLowerCase();
  return { value, cv: (arc ?? "none") as "none" | "pass" | "fail" };
}

describe("ValiMail arc-draft-sign-tests.yml", () => {
  it("has the 17 cases SOURCE.txt announces", () => {
    expect(cases).toHaveLength(17);
  });

  for (const c of cases) {
    const expectsSet = c.AS.trim() !== "";
    it(`${c.scenario} / ${c.name}${expectsSet ? "" : " → no set"}`, async () => {
      const headers = parseHeaderSection(c.message.subarray(0, c.message.indexOf("\r\n\r\n") + 2));
      const ar = authResultsOf(c);
      const set = await arcSeal(c.message, headers, {
        domain: c.domain,
        selector: c.selector,
        privateKeyPem: c.privateKey,
        authResults: ar.value,
        cv: ar.cv,
        headers: c.sigHeaders.split(":"),
        signTime: new Date(c.t * 1000),
      });
      if (!expectsSet) {
        expect(set).toBeNull();
        return;
      }
      expect(set).not.toBeNull();
      const [as, ams, aar] = set!.fields;

      const wantAs = tags(c.AS);
      const gotAs = tags(as!.value);
      expect([...gotAs.keys()].sort()).toEqual([...wantAs.keys()].sort());
      for (const [k, v] of wantAs) if (k !== "b") expect(gotAs.get(k), `ARC-Seal ${k}=`).toBe(v);

      const wantAms = tags(c.AMS);
      const gotAms = tags(ams!.value);
      for (const [k, v] of wantAms) {
        if (k === "b") continue;
        if (k === "h") {
          const set = (s: string) => s.toLowerCase().split(":").sort();
          expect(set(gotAms.get("h") ?? ""), "ARC-Message-Signature h=").toEqual(set(v));
        } else expect(gotAms.get(k), `ARC-Message-Signature ${k}=`).toBe(v);
      }
      // Only q=dns/txt (the default) may be added.
      const extra = [...gotAms.keys()].filter((k) => !wantAms.has(k));
      expect(extra).toEqual(extra.length ? ["q"] : []);
      if (extra.length) expect(gotAms.get("q")).toBe("dns/txt");

      expect(squash(aar!.value)).toBe(squash(c.AAR));

      // Our b= values, checked by hand against the scenario's key …
      const all: Field[] = [
        ...set!.fields,
        ...headers.fields.map((f) => ({ name: f.name, value: fieldValueFolded(f) })),
      ];
      const publicTxt = Object.values(c.zone)[0]![0]! as { value: string };
      checkSignatures(all, publicTxt.value, set!.instance);
      // … and by mailauth: the sealed message validates under the scenario's key.
      const sealed = Buffer.concat([
        Buffer.from(set!.fields.map((f) => `${f.name}: ${f.value}\r\n`).join("")),
        c.message,
      ]);
      const o = await verifyMessage({
        message: sealed,
        headers: parseHeaderSection(Buffer.alloc(0)),
        ip: "192.0.2.1",
        helo: "mx.example.net",
        mailFrom: "",
        mta: "mx.test",
        resolver: fakeZone(c.zone).resolve,
        senderId: false,
        spfHelo: false,
        minKeyBits: 1024,
        now: new Date((c.t + 60) * 1000),
      });
      // A set sealed with cv=fail ends the chain as failed whatever its signatures (RFC 8617 5.2).
      expect(o.arc.result, o.arc.comment).toBe(ar.cv === "fail" ? "fail" : "pass");
      if (ar.cv !== "fail") expect(o.arc.instance).toBe(Number(wantAs.get("i")));
    });
  }
});

describe("arcSeal refusals", () => {
  it("refuses an Ed25519 key: ARC defines rsa-sha256 only", async () => {
    const c = cases[0]!;
    const headers = parseHeaderSection(c.message.subarray(0, c.message.indexOf("\r\n\r\n") + 2));
    const ed = generateDkimKey("ed25519");
    await expect(
      arcSeal(c.message, headers, {
        domain: "example.org",
        selector: "ed",
        privateKeyPem: ed.privatePem,
        authResults: "x.example; arc=none",
        cv: "none",
        headers: ["from"],
      }),
    ).rejects.toThrow(/rsa-sha256 only/);
  });

  it("adds nothing once the chain holds 50 sets", async () => {
    const seals = Array.from(
      { length: 50 },
      (_, i) => `ARC-Seal: i=${i + 1}; cv=${i ? "pass" : "none"}; d=x; s=y; b=\r\n`,
    );
    const msg = Buffer.from(`${seals.join("")}From: a@b.example\r\n\r\nx\r\n`);
    const set = await arcSeal(msg, parseHeaderSection(msg.subarray(0, msg.indexOf("\r\n\r\n") + 2)), {
      domain: cases[0]!.domain,
      selector: cases[0]!.selector,
      privateKeyPem: cases[0]!.privateKey,
      authResults: "x.example; arc=pass",
      cv: "pass",
      headers: ["from"],
    });
    expect(set).toBeNull();
  });
});
