// Training entry point for `sluice train` and the model build script: reads labelled mail
// from paths, tokenizes it like the filter does, learns, and optionally writes the model.
// No CLI parsing and no printing here (the CLI owns that).
import { fitCalibration } from "./calibration.ts";
import { FeatureSet } from "./features.ts";
import { DEFAULT_LEARN, learn, type Example, type LearnOptions } from "./learner.ts";
import { inputFromBytes } from "./message-input.ts";
import type { SpamModel } from "./model.ts";
import { readMessages } from "./sources.ts";
import { tokenize } from "./tokenizer.ts";
import type { TokenizerInput } from "./input.ts";

export interface TrainOptions extends Partial<LearnOptions> {
  /** Paths of spam: directories of .eml files, Maildirs, mbox files or single messages. */
  spam: string[];
  ham: string[];
  /** Where to write the model (optional: the model is returned either way). */
  model?: string;
  /** Progress callback (messages read so far). */
  onProgress?: (read: number) => void;
}

export interface TrainResult {
  model: SpamModel;
  spam: number;
  ham: number;
}

export async function trainModel(opts: TrainOptions): Promise<TrainResult> {
  const learnOpts: LearnOptions = { ...DEFAULT_LEARN, ...stripUndefined(opts) };
  const fs = new FeatureSet(learnOpts.bits);
  const examples: Example[] = [];
  for (const [paths, spam] of [
    [opts.spam, true],
    [opts.ham, false],
  ] as const) {
    for (const path of paths) {
      for await (const raw of readMessages(path)) {
        examples.push(exampleOf(await inputFromBytes(raw), spam, fs, learnOpts.maxChars));
        opts.onProgress?.(examples.length);
      }
    }
  }
  const model = buildModel(examples, {
    ...learnOpts,
    source: learnOpts.source || `sluice train (${opts.spam.length} spam, ${opts.ham.length} ham paths)`,
  });
  if (opts.model) await model.save(opts.model);
  const spam = examples.filter((e) => e.spam).length;
  return { model, spam, ham: examples.length - spam };
}

/** A model from labelled examples: the averaged learner, then the out-of-fold calibration. */
export function buildModel(examples: readonly Example[], opts: LearnOptions): SpamModel {
  const model = learn(examples, opts);
  if (examples.length >= 40 && examples.some((e) => e.spam) && examples.some((e) => !e.spam)) {
    const { folds: _folds, ...calibration } = fitCalibration(examples, opts);
    model.meta.calibration = calibration;
  }
  return model;
}

/** One training example from a parsed message, as the filter tokenizes it. */
export function exampleOf(input: TokenizerInput, spam: boolean, fs: FeatureSet, maxChars: number): Example {
  fs.reset();
  const t = tokenize(input, { maxChars }, fs);
  return { indices: fs.snapshot(), hashes: fs.snapshotHashes(), norm: t.contentCount, spam };
}

/** Hashed features of one raw message, as the filter computes them (no earlier symbols offline). */
export async function featuresOf(raw: Buffer, fs: FeatureSet, maxChars: number): Promise<Uint32Array> {
  const input = await inputFromBytes(raw);
  fs.reset();
  tokenize(input, { maxChars }, fs);
  return fs.snapshot();
}

function stripUndefined(o: TrainOptions): Partial<LearnOptions> {
  const out: Partial<LearnOptions> = {};
  for (const k of Object.keys(DEFAULT_LEARN) as (keyof LearnOptions)[]) {
    if (o[k] !== undefined) (out as Record<string, unknown>)[k] = o[k];
  }
  return out;
}
