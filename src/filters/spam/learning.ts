// Learning at the site: lessons (user feedback, quarantine releases, autolearn, `sluice learn`)
// are kept in the store and applied to the live model incrementally — one capped gradient step
// each, in lesson-id order, so every node that applies the same lessons to the same revision
// holds the same model. A scheduled compaction folds the lessons into a new model revision
// (published in the store, like a configuration revision); rollback republishes an old one.
// Guards here: authenticated actors, a daily cap per actor, one lesson per message and label.
// Autolearn's own guards (evidence, balance, rate) live in autolearn.ts.
import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import type { Logger } from "pino";
import { Counter, Gauge, type Registry } from "prom-client";
import type {
  JobStore,
  SpamLearningStore,
  SpamLesson,
  SpamLessonSource,
  SpamModelRevision,
} from "../../store/types.ts";
import { FeatureSet } from "./features.ts";
import type { TokenizerInput } from "./input.ts";
import { applyLesson, type LessonFeatures } from "./lesson.ts";
import { inputFromBytes } from "./message-input.ts";
import { SpamModel } from "./model.ts";
import { tokenize, TOKENIZER_VERSION } from "./tokenizer.ts";

const gunzipAsync = promisify(gunzip);

/** Actors that are never who a caller authenticated. */
const ANONYMOUS = new Set(["", "anonymous", "unauthenticated", "nobody", "guest"]);

export type LessonOutcome = "learned" | "duplicate" | "capped" | "unauthenticated" | "disabled";

export interface LessonRequest {
  /** The message (raw bytes) or its classifier input (autolearn has it already). */
  message: Buffer | TokenizerInput;
  /** SHA-256 of the raw message; computed from `message` when it is bytes. */
  hash?: string;
  label: "spam" | "ham";
  source: SpamLessonSource;
  /** Who judged; required except for autolearn. */
  actor: string | null;
  recipient?: string | null;
  sender?: string | null;
  tenant?: string | null;
  /** The model taught: "" (shared) or a tenant id. */
  scope: string;
}

export interface LearningOptions {
  /** Lessons per actor per day (feedback and releases). */
  perActorPerDay: number;
  /** How often a node looks for new lessons and revisions of the models it uses. */
  pollMs: number;
  /** Compaction skips lessons younger than this (a slower writer may still commit a lower id). */
  settleMs: number;
}

export const DEFAULT_LEARNING: LearningOptions = { perActorPerDay: 200, pollMs: 2000, settleMs: 10_000 };

type Store = SpamLearningStore & Partial<JobStore>;

interface ScopeState {
  /** The revision in force (null: the base file). */
  rev: number | null;
  revCreatedAt: Date | null;
  model: SpamModel;
  /** Newest lesson applied. */
  lastLesson: number;
  syncedAt: number;
  syncing: Promise<void> | null;
}

/** Feature hashes of one message as stored with its lesson: [own-feature count, hash…] (uint32 LE). */
export function encodeFeatures(hashes: Uint32Array, count: number, norm: number): Buffer {
  const b = Buffer.alloc(4 * (count + 1));
  b.writeUInt32LE(norm, 0);
  for (let i = 0; i < count; i++) b.writeUInt32LE(hashes[i]! >>> 0, 4 * (i + 1));
  return b;
}

export function decodeFeatures(buf: Buffer, bits: number): LessonFeatures {
  const n = buf.length / 4 - 1;
  const hashes = new Uint32Array(Math.max(n, 0));
  for (let i = 0; i < n; i++) hashes[i] = buf.readUInt32LE(4 * (i + 1));
  const mask = 2 ** bits - 1;
  const indices = hashes.map((h) => (h & mask) >>> 0);
  return { indices, hashes, norm: n >= 0 ? buf.readUInt32LE(0) : 0 };
}

export class SpamLearning {
  readonly store: Store;
  private readonly opts: LearningOptions;
  private readonly log: Logger | null;
  private readonly states = new Map<string, Promise<ScopeState>>();
  private readonly lessonsCounter: Counter;
  private readonly disagreeCounter: Counter;
  private readonly ageGauge: Gauge;
  private readonly revGauge: Gauge;

  /** The service over a store that keeps lessons (null: a store without that role). */
  static forStore(
    store: Partial<SpamLearningStore> & Partial<JobStore>,
    opts: Partial<LearningOptions> & { log?: Logger; registry?: Registry } = {},
  ): SpamLearning | null {
    const full = (s: typeof store): s is Store =>
      typeof s.addSpamLesson === "function" && typeof s.latestSpamModel === "function";
    return full(store) ? new SpamLearning(store, opts) : null;
  }

  constructor(store: Store, opts: Partial<LearningOptions> & { log?: Logger; registry?: Registry } = {}) {
    this.store = store;
    this.opts = { ...DEFAULT_LEARNING, ...opts };
    this.log = opts.log ?? null;
    const registers = opts.registry ? [opts.registry] : [];
    this.lessonsCounter = new Counter({
      name: "sluice_spam_lessons_total",
      help: "Spam classifier lessons kept, by class and source (feedback, release, autolearn, cli)",
      labelNames: ["label", "source"],
      registers,
    });
    this.disagreeCounter = new Counter({
      name: "sluice_spam_feedback_disagreements_total",
      help: "User lessons whose label the classifier had got wrong",
      labelNames: ["label"],
      registers,
    });
    const states = this.states;
    this.ageGauge = new Gauge({
      name: "sluice_spam_model_age_seconds",
      help: "Age of the spam model revision in force per scope (since its compaction or build)",
      labelNames: ["scope"],
      registers,
      async collect() {
        for (const [scope, p] of states) {
          const s = await p.catch(() => null);
          if (s?.revCreatedAt) this.set({ scope }, (Date.now() - s.revCreatedAt.getTime()) / 1000);
        }
      },
    });
    this.revGauge = new Gauge({
      name: "sluice_spam_model_revision",
      help: "Spam model revision in force per scope (0: the model file)",
      labelNames: ["scope"],
      registers,
      async collect() {
        for (const [scope, p] of states) {
          const s = await p.catch(() => null);
          if (s) this.set({ scope }, s.rev ?? 0);
        }
      },
    });
  }

  /**
   * The live model of a scope: its newest revision (or the base file) with every later lesson
   * applied. Scoring calls this per message; a refresh runs in the background every pollMs.
   */
  async model(scope: string, base: () => Promise<SpamModel>): Promise<SpamModel> {
    let p = this.states.get(scope);
    if (!p) {
      p = this.load(scope, base);
      this.states.set(scope, p);
      p.catch(() => this.states.delete(scope));
    }
    const s = await p;
    if (Date.now() - s.syncedAt > this.opts.pollMs && !s.syncing) {
      s.syncing = this.sync(scope, s, base)
        .catch((err: Error) => this.log?.warn({ err: err.message, scope }, "spam model sync failed"))
        .finally(() => (s.syncing = null));
    }
    return s.model;
  }

  /** Waits until the scope's model has every lesson and revision now in the store. */
  async refresh(scope: string, base: () => Promise<SpamModel>): Promise<SpamModel> {
    const s = await (this.states.get(scope) ?? this.model(scope, base).then(() => this.states.get(scope)!));
    await s.syncing;
    await this.sync(scope, s, base);
    return s.model;
  }

  /** The revision in force and lessons applied, per scope loaded on this node. */
  async status(): Promise<
    { scope: string; rev: number | null; lastLesson: number; lessons: SpamModel["meta"]["lessons"] }[]
  > {
    const out = [];
    for (const [scope, p] of this.states) {
      const s = await p.catch(() => null);
      if (s) out.push({ scope, rev: s.rev, lastLesson: s.lastLesson, lessons: s.model.meta.lessons });
    }
    return out;
  }

  private async load(scope: string, base: () => Promise<SpamModel>): Promise<ScopeState> {
    let rev: SpamModelRevision | null;
    try {
      rev = await this.store.latestSpamModel(scope);
    } catch (err) {
      // The store is down: score with the model file now, catch up when it answers again.
      this.log?.warn(
        { scope, err: (err as Error).message },
        "spam lessons unavailable; scoring with the model file",
      );
      return {
        rev: null,
        revCreatedAt: null,
        model: (await base()).clone(),
        lastLesson: 0,
        syncedAt: Date.now(),
        syncing: null,
      };
    }
    const model = rev ? await modelOf(rev) : (await base()).clone();
    const s: ScopeState = {
      rev: rev?.rev ?? null,
      revCreatedAt: rev?.createdAt ?? null,
      model,
      lastLesson: rev?.lessonsUpTo ?? 0,
      syncedAt: 0,
      syncing: null,
    };
    await this.applyNew(scope, s);
    return s;
  }

  private async sync(scope: string, s: ScopeState, base: () => Promise<SpamModel>): Promise<void> {
    // The poll reads the newest revision's number only; its model bytes only when it changed.
    const [head] = await this.store.listSpamModels({ scope, limit: 1 });
    const latest = head && head.rev !== s.rev ? await this.store.getSpamModel(head.rev) : null;
    if (latest && latest.rev !== s.rev) {
      // A new revision (compaction or rollback): it replaces the model; lessons after it apply on top.
      s.model = await modelOf(latest);
      s.rev = latest.rev;
      s.revCreatedAt = latest.createdAt;
      s.lastLesson = latest.lessonsUpTo;
      this.log?.info(
        { scope, rev: latest.rev, lessonsUpTo: latest.lessonsUpTo },
        "spam model revision applied",
      );
    } else if (!head && s.rev !== null) {
      s.model = (await base()).clone();
      s.rev = null;
      s.lastLesson = 0;
    }
    await this.applyNew(scope, s);
  }

  private async applyNew(scope: string, s: ScopeState): Promise<void> {
    for (;;) {
      const batch = await this.store.listSpamLessons({ scope, afterId: s.lastLesson, limit: 500 });
      for (const l of batch) {
        if (l.tokenizer === TOKENIZER_VERSION)
          applyLesson(s.model, decodeFeatures(l.features, s.model.meta.bits), l.label);
        s.lastLesson = l.id;
      }
      if (batch.length < 500) break;
    }
    s.syncedAt = Date.now();
  }

  /**
   * Keeps one lesson and applies it here at once (other nodes within pollMs). The message is
   * tokenized as the filter does; `disagrees` records whether the live model had it wrong.
   */
  async learn(req: LessonRequest, base: () => Promise<SpamModel>): Promise<LessonOutcome> {
    const actor = req.actor?.trim().toLowerCase() ?? null;
    if (req.source !== "autolearn" && (!actor || ANONYMOUS.has(actor) || /\s/.test(actor)))
      return "unauthenticated";
    // The cap is for users' clicks; an administrator's bulk `sluice learn` is not capped.
    if (actor && (req.source === "feedback" || req.source === "release")) {
      const today = await this.store.countSpamLessons({ actor, since: new Date(Date.now() - 86_400_000) });
      if (today >= this.opts.perActorPerDay) return "capped";
    }
    const model = await this.model(req.scope, base);
    const input = Buffer.isBuffer(req.message) ? await inputFromBytes(req.message) : req.message;
    const hash =
      req.hash ??
      (Buffer.isBuffer(req.message) ? createHash("sha256").update(req.message).digest("hex") : null);
    if (!hash) throw new Error("a lesson needs the message hash");
    const fs = new FeatureSet(model.meta.bits);
    fs.reset();
    const t = tokenize(input, { maxChars: model.meta.maxChars }, fs);
    const score = model.score(fs, t.contentCount);
    const disagrees = req.source !== "autolearn" && (req.label === "spam") !== score.logOdds > 0;
    const kept = await this.store.addSpamLesson({
      scope: req.scope,
      tenant: req.tenant ?? null,
      label: req.label,
      source: req.source,
      actor,
      recipient: req.recipient?.toLowerCase() ?? null,
      sender: req.sender?.toLowerCase() ?? null,
      hash,
      tokenizer: TOKENIZER_VERSION,
      features: encodeFeatures(fs.hashes, fs.count, t.contentCount),
      disagrees,
      createdAt: new Date(),
    });
    if (!kept) return "duplicate";
    this.lessonsCounter.inc({ label: req.label, source: req.source });
    if (disagrees) this.disagreeCounter.inc({ label: req.label });
    await this.refresh(req.scope, base);
    return "learned";
  }

  /**
   * Folds the scope's settled lessons into a new revision (null: nothing new). Every node then
   * loads it; their live models already held those lessons, so scoring does not jump.
   */
  async compact(
    scope: string,
    base: () => Promise<SpamModel>,
    author = "compaction",
    now = new Date(),
  ): Promise<SpamModelRevision | null> {
    const latest = await this.store.latestSpamModel(scope);
    const model = latest ? await modelOf(latest) : (await base()).clone();
    let upTo = latest?.lessonsUpTo ?? 0;
    const settled = now.getTime() - this.opts.settleMs;
    let applied = 0;
    for (;;) {
      const batch = await this.store.listSpamLessons({ scope, afterId: upTo, limit: 500 });
      const ready = batch.filter((l) => l.createdAt.getTime() <= settled);
      for (const l of takeWhileSettled(batch, settled)) {
        if (l.tokenizer === TOKENIZER_VERSION)
          applyLesson(model, decodeFeatures(l.features, model.meta.bits), l.label);
        upTo = l.id;
        applied++;
      }
      if (batch.length < 500 || ready.length < batch.length) break;
    }
    if (applied === 0) return null;
    model.meta.builtAt = new Date().toISOString();
    const rev = await this.store.publishSpamModel({
      scope,
      model: model.toBuffer(1),
      lessonsUpTo: upTo,
      author,
      note: `${applied} lessons compacted`,
      rollbackOf: null,
    });
    this.log?.info({ scope, rev: rev.rev, lessons: applied, upTo }, "spam model compacted");
    return rev;
  }

  /**
   * Republishes revision `rev` (its scope's model as it was); lessons kept since are not
   * applied again, later ones are. Like `sluice config rollback`.
   */
  async rollback(rev: number, author: string): Promise<SpamModelRevision> {
    const old = await this.store.getSpamModel(rev);
    if (!old) throw new Error(`no spam model revision ${rev}`);
    let upTo = old.lessonsUpTo;
    for (;;) {
      const batch = await this.store.listSpamLessons({ scope: old.scope, afterId: upTo, limit: 500 });
      if (batch.length) upTo = batch[batch.length - 1]!.id;
      if (batch.length < 500) break;
    }
    return this.store.publishSpamModel({
      scope: old.scope,
      model: old.model,
      lessonsUpTo: upTo,
      author,
      note: `rollback to revision ${rev}`,
      rollbackOf: rev,
    });
  }
}

/** Lessons up to the first one not yet settled (a later id may be from a writer still committing). */
function takeWhileSettled(batch: readonly SpamLesson[], settled: number): SpamLesson[] {
  const out: SpamLesson[] = [];
  for (const l of batch) {
    if (l.createdAt.getTime() > settled) break;
    out.push(l);
  }
  return out;
}

async function modelOf(rev: SpamModelRevision): Promise<SpamModel> {
  // Inflate off the event loop (a model is megabytes); parse synchronously.
  const raw = await gunzipAsync(rev.model);
  return SpamModel.fromRaw(raw, `spam model revision ${rev.rev}`);
}
