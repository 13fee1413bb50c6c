// Incremental learning from users' judgements ("release and learn as ham", "report as spam"):
// one gradient step on the configured model file, written atomically (the model cache picks
// it up by mtime). Bounded: deduplicated by message hash and label, at most `perUserPerDay`
// lessons per user, a ledger of at most `ledgerMax` entries. Never touches the shipped default.
import { createHash } from "node:crypto";
import { readFile, realpath, rename, stat, writeFile } from "node:fs/promises";
import { DEFAULT_MODEL_PATH } from "./classifier.ts";
import { FeatureSet } from "./features.ts";
import { applyLesson, lessonFeatures } from "./lesson.ts";
import { inputFromBytes } from "./message-input.ts";
import { SpamModel } from "./model.ts";
import { tokenize } from "./tokenizer.ts";

export type FeedbackOutcome = "learned" | "duplicate" | "capped" | "default-model" | "unauthenticated";

/** The actor must be who the caller authenticated; these never count as one. */
const ANONYMOUS = new Set(["", "anonymous", "unauthenticated", "nobody", "guest"]);

interface LedgerEntry {
  hash: string;
  label: "spam" | "ham";
  user: string;
  at: number;
}

export interface FeedbackOptions {
  perUserPerDay?: number;
  ledgerMax?: number;
}

export class SpamFeedback {
  private readonly perUserPerDay: number;
  private readonly ledgerMax: number;
  /** One writer per model file at a time. */
  private readonly chains = new Map<string, Promise<unknown>>();
  /** The model last written per file, reused while the file is unchanged (no reload per lesson). */
  private readonly models = new Map<string, { mtimeMs: number; model: SpamModel }>();

  constructor(opts: FeedbackOptions = {}) {
    this.perUserPerDay = opts.perUserPerDay ?? 50;
    this.ledgerMax = opts.ledgerMax ?? 10_000;
  }

  /** The brief's shape bound to one model file: `learn(message, label, { user })`. */
  forModel(modelPath: string): {
    learn(message: Buffer, label: "spam" | "ham", opts: { user: string }): Promise<FeedbackOutcome>;
  } {
    return { learn: (message, label, opts) => this.learn(modelPath, message, label, opts.user) };
  }

  learn(modelPath: string, message: Buffer, label: "spam" | "ham", user: string): Promise<FeedbackOutcome> {
    if (ANONYMOUS.has(user.trim().toLowerCase()) || /\s/.test(user.trim()))
      return Promise.resolve("unauthenticated");
    const prev = this.chains.get(modelPath) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(() => this.learnNow(modelPath, message, label, user));
    this.chains.set(modelPath, next);
    return next;
  }

  private async learnNow(
    modelPath: string,
    message: Buffer,
    label: "spam" | "ham",
    user: string,
  ): Promise<FeedbackOutcome> {
    const real = (p: string) => realpath(p).catch(() => p);
    if ((await real(modelPath)) === (await real(DEFAULT_MODEL_PATH))) return "default-model";
    const ledgerPath = `${modelPath}.feedback.json`;
    const ledger: LedgerEntry[] = await readFile(ledgerPath, "utf8")
      .then((t) => JSON.parse(t) as LedgerEntry[])
      .catch(() => []);
    const hash = createHash("sha256").update(message).digest("hex");
    if (ledger.some((e) => e.hash === hash && e.label === label)) return "duplicate";
    const dayAgo = Date.now() - 86_400_000;
    const who = user.toLowerCase();
    if (ledger.filter((e) => e.user === who && e.at > dayAgo).length >= this.perUserPerDay) return "capped";
    const mtimeMs = (await stat(modelPath).catch(() => null))?.mtimeMs ?? -1;
    const cached = this.models.get(modelPath);
    const model = cached && cached.mtimeMs === mtimeMs ? cached.model : await SpamModel.load(modelPath);
    const fs = new FeatureSet(model.meta.bits);
    fs.reset();
    const t = tokenize(await inputFromBytes(message), { maxChars: model.meta.maxChars }, fs);
    applyLesson(model, lessonFeatures(fs, t.contentCount), label);
    await model.save(modelPath, 1);
    this.models.set(modelPath, { mtimeMs: (await stat(modelPath)).mtimeMs, model });
    ledger.push({ hash, label, user: who, at: Date.now() });
    const tmp = `${ledgerPath}.tmp`;
    await writeFile(tmp, JSON.stringify(ledger.slice(-this.ledgerMax)));
    await rename(tmp, ledgerPath);
    return "learned";
  }
}
