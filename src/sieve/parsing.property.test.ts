// Property-based tests (fast-check) of the parsing this issue added: mailboxes (redirect, :from),
// mailto: URIs, :encodeurl, and the MIME part tree. They check round trips and "never throws".
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseMailbox } from "./address.ts";
import { parseMailto } from "./mailto.ts";
import { allParts, buildMimeTree } from "./mime-tree.ts";
import { applyModifiers } from "./variables.ts";

const atom = fc.stringMatching(/^[a-z0-9!#$%&'*+/=?^_`{|}~-]{1,12}$/);
const localPart = fc.array(atom, { minLength: 1, maxLength: 3 }).map((a) => a.join("."));
const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
const domain = fc.array(label, { minLength: 1, maxLength: 3 }).map((a) => a.join(".") + ".example");
const address = fc.tuple(localPart, domain).map(([l, d]) => `${l}@${d}`);
const phrase = fc.stringMatching(/^[A-Za-z][A-Za-z ]{0,15}$/);

describe("parseMailbox", () => {
  it("finds the addr-spec in every written form of one mailbox", () => {
    fc.assert(
      fc.property(address, phrase, fc.stringMatching(/^[ \t]{0,3}$/), (a, name, ws) => {
        for (const form of [
          a,
          `${ws}${a}${ws}`,
          `<${a}>`,
          `${name} <${a}>`,
          `"${name}" <${a}>`,
          `${a} (${name})`,
        ]) {
          expect(parseMailbox(form)).toEqual({ address: a });
        }
      }),
    );
  });

  it("never throws, and refuses two addresses or none", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        const r = parseMailbox(s);
        expect("address" in r || "error" in r).toBe(true);
        if ("address" in r) expect(r.address).toContain("@");
      }),
    );
    fc.assert(
      fc.property(address, address, (a, b) => {
        expect(parseMailbox(`${a}, ${b}`)).toHaveProperty("error");
      }),
    );
  });
});

describe("parseMailto and :encodeurl", () => {
  it("any text survives :encodeurl as a mailto header value and body", () => {
    fc.assert(
      fc.property(
        address,
        fc.string({ maxLength: 60 }),
        fc.string({ maxLength: 60 }),
        (to, subject, body) => {
          const enc = (s: string) => applyModifiers(s, ["encodeurl"]);
          const parsed = parseMailto(`mailto:${enc(to)}?subject=${enc(subject)}&body=${enc(body)}`);
          if (/[\r\n\0]/.test(subject)) {
            expect(parsed).toHaveProperty("error");
            return;
          }
          expect(parsed).toMatchObject({
            recipients: [to],
            headers: [{ name: "subject", value: subject }],
            body,
          });
        },
      ),
    );
  });

  it(":encodeurl output holds only unreserved characters and %XX", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => {
        expect(applyModifiers(s, ["encodeurl"])).toMatch(/^([A-Za-z0-9\-._~]|%[0-9A-F]{2})*$/);
      }),
    );
  });

  it("never throws on arbitrary input", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        const r = parseMailto("mailto:" + s);
        expect("recipients" in r || "error" in r).toBe(true);
      }),
    );
  });
});

describe("buildMimeTree", () => {
  type Shape = { leaf: string } | { parts: Shape[] };
  const shape: fc.Arbitrary<Shape> = fc.letrec<{ node: Shape }>((tie) => ({
    node: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.record({ leaf: fc.stringMatching(/^[a-z ]{0,20}$/) }),
      fc.record({ parts: fc.array(tie("node"), { minLength: 1, maxLength: 3 }) }),
    ),
  })).node;

  let boundaries = 0;
  const render = (s: Shape, id: string): string => {
    if ("leaf" in s) return `Content-Type: text/plain\r\nX-Id: ${id}\r\n\r\n${s.leaf}\r\n`;
    const b = `b${boundaries++}`;
    const kids = s.parts.map((p, i) => `--${b}\r\n${render(p, `${id}.${i}`)}`).join("");
    return `Content-Type: multipart/mixed; boundary="${b}"\r\nX-Id: ${id}\r\n\r\npreamble\r\n${kids}--${b}--\r\nepilogue\r\n`;
  };
  const ids = (s: Shape, id: string): string[] =>
    "leaf" in s ? [id] : [id, ...s.parts.flatMap((p, i) => ids(p, `${id}.${i}`))];
  const leaves = (s: Shape): string[] => ("leaf" in s ? [s.leaf] : s.parts.flatMap(leaves));

  it("recovers every generated part, in document order, with its text", () => {
    fc.assert(
      fc.property(shape, (s) => {
        const tree = buildMimeTree("Subject: t\r\n" + render(s, "r"));
        const parts = allParts(tree);
        expect(parts.map((p) => p.headers.find((h) => h.name === "X-Id")?.value)).toEqual(ids(s, "r"));
        const texts = parts.filter((p) => p.children.length === 0 && p.contentType === "text/plain");
        expect(texts.map((p) => p.text().replace(/\r\n$/, ""))).toEqual(leaves(s));
      }),
    );
  });

  it("never throws and respects the part limit on arbitrary input", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        const raw = 'Content-Type: multipart/mixed; boundary="x"\r\n\r\n' + s.replace(/#/g, "\r\n--x\r\n");
        expect(allParts(buildMimeTree(raw, { maxParts: 5 })).length).toBeLessThanOrEqual(5);
      }),
    );
  });
});

describe("buildMimeTree bounds", () => {
  it("splits a message of a million delimiters quickly, keeping maxParts", () => {
    const raw =
      'Content-Type: multipart/mixed; boundary="x"\r\n\r\n' + "--x\r\n\r\n".repeat(1_000_000) + "--x--\r\n";
    const start = performance.now();
    expect(allParts(buildMimeTree(raw)).length).toBe(1000);
    expect(performance.now() - start).toBeLessThan(3000);
  });
});
