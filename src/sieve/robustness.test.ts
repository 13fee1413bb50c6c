// Random token soups and mutated valid scripts: compile either succeeds or throws SieveCompileError,
// and running only ever throws SieveRuntimeError — never an internal TypeError or RangeError.
import { describe, expect, it } from "vitest";
import { compileSieve } from "./compile.ts";
import { SieveCompileError, SieveRuntimeError } from "./errors.ts";
import { fakeEnv } from "./environment.fake.ts";
import { runSieve } from "./index.ts";
import { PLAIN_MESSAGE } from "../../test/helpers/sieve.ts";

function prng(seed: number): () => number {
  // mulberry32: deterministic, so a failure is reproducible from its seed.
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VOCAB = [
  "require",
  '["fileinto", "variables", "regex", "relational", "editheader", "date", "index", "body", "envelope"]',
  '"variables"',
  "if",
  "elsif",
  "else",
  "allof",
  "anyof",
  "not",
  "true",
  "false",
  "header",
  "address",
  "envelope",
  "exists",
  "size",
  "body",
  "string",
  "date",
  "currentdate",
  "set",
  "fileinto",
  "redirect",
  "keep",
  "discard",
  "stop",
  "addheader",
  "deleteheader",
  ":is",
  ":contains",
  ":matches",
  ":regex",
  ":value",
  ":count",
  ":comparator",
  ":index",
  ":last",
  ":over",
  ":under",
  ":lower",
  ":length",
  ":domain",
  ":all",
  '"i;ascii-numeric"',
  '"i;octet"',
  '"gt"',
  '"subject"',
  '"from"',
  '"to"',
  '"*a*"',
  '"${1}"',
  '"${x}"',
  '"x"',
  '"(a|b)*"',
  '"year"',
  '"date"',
  "1",
  "10K",
  "0",
  "[",
  "]",
  "(",
  ")",
  "{",
  "}",
  ",",
  ";",
  ";",
  ";",
  "text:\nline\n.\n",
  "# c\n",
  "/* c */",
];

function soup(rand: () => number): string {
  const n = 1 + Math.floor(rand() * 40);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(VOCAB[Math.floor(rand() * VOCAB.length)] as string);
  return out.join(" ");
}

const VALID = `require ["fileinto", "variables", "regex", "relational", "comparator-i;ascii-numeric", "editheader"];
if header :matches "subject" "*present*" { set "a" "\${1}"; fileinto "x.\${a}"; }
elsif header :regex "from" "^(.*)@" { addheader "X-User" "\${1}"; }
if header :count "gt" :comparator "i;ascii-numeric" "received" "2" { discard; } else { keep; }
deleteheader :index 1 "x-user";`;

function check(source: string): void {
  let script;
  try {
    script = compileSieve(source);
  } catch (err) {
    if (err instanceof SieveCompileError) {
      for (const d of err.diagnostics) {
        expect(d.line).toBeGreaterThanOrEqual(1);
        expect(d.column).toBeGreaterThanOrEqual(1);
        expect(d.message.length).toBeGreaterThan(0);
      }
      return;
    }
    throw new Error(`compile crashed on ${JSON.stringify(source)}: ${String(err)}`, { cause: err });
  }
  try {
    runSieve(script, fakeEnv(PLAIN_MESSAGE), { maxSteps: 5000 });
  } catch (err) {
    if (!(err instanceof SieveRuntimeError))
      throw new Error(`run crashed on ${JSON.stringify(source)}: ${String(err)}`, { cause: err });
  }
}

describe("robustness", () => {
  it("random token soups never crash the compiler or interpreter", () => {
    const rand = prng(20261127);
    for (let i = 0; i < 3000; i++) check(soup(rand));
  });

  it("single-character mutations of a valid script never crash", () => {
    const rand = prng(42);
    const alphabet = ' ";:[](){},\\$*?#\n/x1';
    expect(() => compileSieve(VALID)).not.toThrow();
    for (let i = 0; i < 2000; i++) {
      const at = Math.floor(rand() * VALID.length);
      const ch = alphabet[Math.floor(rand() * alphabet.length)] as string;
      const mutated =
        rand() < 0.5
          ? VALID.slice(0, at) + ch + VALID.slice(at + 1)
          : VALID.slice(0, at) + VALID.slice(at + 1);
      check(mutated);
    }
  });
});
