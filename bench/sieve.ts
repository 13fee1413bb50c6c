// Benchmark for the Sieve library: compile time and per-message evaluation time for the
// mis-delivery example and a generated 200-rule policy. Run: node bench/sieve.ts (Node 24).
// Not a test: prints numbers only; never part of npm test.

import { readFileSync } from "node:fs";
import { compileSieve, runSieve, type CompiledScript } from "../src/sieve/index.ts";
import { fakeEnv } from "../src/sieve/fake-env.ts";
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
