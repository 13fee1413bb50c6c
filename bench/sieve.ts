// Benchmark for the Sieve library: compile time and per-message evaluation time for the
// mis-delivery example and a generated 200-rule policy. Run: node bench/sieve.ts (Node 24).
// Not a test: prints numbers only; never part of npm test.

import { readFileSync } from "node:fs";
import { compileSieve, runSieve, type CompiledScript } from "../src/sieve/index.ts";
import { fakeEnv } from "../src/sieve/environment.fake.ts";
import type { SieveEnvironment } from "../src/sieve/environment.ts";

function time(label: string, iterations: number, fn: () => unknown): void {
  for (let i = 0; i < Math.min(iterations, 200); i++) fn(); // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  const us = Number(process.hrtime.bigint() - start) / 1000 / iterations;
  console.log(`${label.padEnd(52)} ${us.toFixed(1).padStart(9)} µs/op  (${iterations} runs)`);
}

function generatedPolicy(rules: number): string {
  const lines = [
    'require ["fileinto", "envelope", "subaddress", "relational", "comparator-i;ascii-numeric",',
    '         "regex", "variables", "editheader", "vnd.sluice.symbols"];',
  ];
  for (let i = 0; i < rules; i++) {
    switch (i % 5) {
      case 0:
        lines.push(`if header :contains "subject" ["promo-${i}", "offer ${i}"] { fileinto "promo/${i}"; }`);
        break;
      case 1:
        lines.push(`if address :domain :is "from" "sender${i}.example" { fileinto "partners/${i}"; }`);
        break;
      case 2:
        lines.push(`if envelope :detail :matches "to" "list-${i}-*" { fileinto "lists/\${1}"; }`);
        break;
      case 3:
        lines.push(`if header :regex "x-mailer" "^bulkmailer-${i}\\\\b" { addheader "X-Rule" "${i}"; }`);
        break;
      case 4:
        lines.push(`if symbol :over ${(i % 10) + 1} "RULE_${i}" { fileinto "scored/${i}"; }`);
        break;
    }
  }
  return lines.join("\n") + "\n";
}

const message = [
  "From: Alice <alice@corp.example>",
  "To: bob@partner.example",
  "Subject: Q3 contract draft",
  "X-Mailer: Thunderbird",
  "Date: Fri, 27 Nov 2026 10:00:00 +0000",
  'Content-Type: multipart/mixed; boundary="b1"',
  "",
  "--b1",
  "Content-Type: text/plain",
  "",
  "Please see the attached draft.",
  "--b1",
  "Content-Type: application/pdf",
  'Content-Disposition: attachment; filename="draft.pdf"',
  "Content-Transfer-Encoding: base64",
  "",
  "JVBERi0xLjQK".repeat(2000),
  "--b1--",
  "",
].join("\r\n");

const lists = { "tag:internal-domains": ["corp.example"] };
const env: SieveEnvironment = fakeEnv(message, {
  from: "alice@corp.example",
  to: "bob@partner.example",
  lists,
});

const misdelivery = readFileSync(
  new URL("../examples/sieve/misdelivery-hold.sieve", import.meta.url),
  "utf8",
);
const policy = generatedPolicy(200);

console.log(
  `node ${process.version}; message ${message.length} bytes; generated policy ${policy.length} bytes`,
);
let compiled: CompiledScript | undefined;
time("compile misdelivery-hold.sieve", 2000, () => (compiled = compileSieve(misdelivery)));
const m = compiled as CompiledScript;
time("run misdelivery-hold.sieve (external, attachment)", 5000, () => runSieve(m, env));
time("compile generated 200-rule policy", 200, () => (compiled = compileSieve(policy)));
const p = compiled as CompiledScript;
const result = runSieve(p, env);
time(`run generated 200-rule policy (${result.steps} steps)`, 2000, () => runSieve(p, env));

// RFC 5703: a 200-rule policy inside foreverypart over a message of 50 parts (issue #24).
function partsPolicy(rules: number): string {
  const lines = [
    'require ["foreverypart", "mime", "variables", "fileinto", "extracttext", "vnd.sluice.quarantine"];',
  ];
  lines.push("foreverypart {");
  for (let i = 0; i < rules; i++) {
    switch (i % 4) {
      case 0:
        lines.push(
          `  if header :mime :param "filename" :matches "Content-Disposition" "*.x${i}" { quarantine; break; }`,
        );
        break;
      case 1:
        lines.push(
          `  if header :mime :contenttype "Content-Type" "application/x-type-${i}" { fileinto "types/${i}"; }`,
        );
        break;
      case 2:
        lines.push(`  if header :mime :anychild :contains "X-Tag" "tag-${i}" { fileinto "tags/${i}"; }`);
        break;
      case 3:
        lines.push(
          `  if header :mime :type "Content-Type" "text" { extracttext :first 200 "t"; if string :contains "\${t}" "marker-${i}" { fileinto "text/${i}"; } }`,
        );
        break;
    }
  }
  lines.push("}");
  return lines.join("\n") + "\n";
}

function fiftyParts(): string {
  const out = [
    "From: a@corp.example",
    "To: b@partner.example",
    "Subject: fifty",
    'Content-Type: multipart/mixed; boundary="p"',
    "",
  ];
  for (let i = 0; i < 50; i++) {
    out.push("--p");
    if (i % 2 === 0) {
      out.push(
        "Content-Type: text/plain; charset=utf-8",
        `X-Tag: part-${i}`,
        "",
        `Text of part ${i}. `.repeat(20),
      );
    } else {
      out.push(
        `Content-Type: application/octet-stream; name="file${i}.bin"`,
        `Content-Disposition: attachment; filename="file${i}.bin"`,
        "Content-Transfer-Encoding: base64",
        "",
        "QUJD".repeat(500),
      );
    }
  }
  out.push("--p--", "");
  return out.join("\r\n");
}

const fep = partsPolicy(200);
const fifty = fiftyParts();
const fiftyEnv = fakeEnv(fifty, { from: "a@corp.example", to: "b@partner.example" });
console.log(`foreverypart policy ${fep.length} bytes; 50-part message ${fifty.length} bytes`);
time("compile 200-rule foreverypart policy", 200, () => (compiled = compileSieve(fep)));
const f = compiled as CompiledScript;
const fr = runSieve(f, fiftyEnv);
time(`run it over 50 parts, tree cached (${fr.steps} steps)`, 500, () => runSieve(f, fiftyEnv));
time("run it over 50 parts, tree built per run", 200, () =>
  runSieve(f, fakeEnv(fifty, { from: "a@corp.example", to: "b@partner.example" })),
);
